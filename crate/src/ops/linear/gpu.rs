//! Linear's kernels on burn's wgpu backend: `shaders/matmul.wgsl`.

use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};
use burn::tensor::Shape;

use super::{
    InputGradient, LinearGradients, LinearKernels, LinearOps, ThreeGradients, three_backward_apart, three_forward_apart,
};
use crate::ops::shader::{MATMUL, MATMUL_THREE, MATMUL_TILED};
use crate::ops::wgsl::{
    Info, MAX_WORKGROUPS, bytes, empty, hardware_form, inputs, launch, optional_inputs, pieces_for, same_buffer,
    side_by_side, spacing, span, sum_pieces, views, workgroups_for,
};

impl LinearOps for CubeBackend {
    fn linear_biased(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::linear_forward(x, weight, Some(bias), None)
    }

    fn linear_unbiased(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::linear_forward(x, weight, None, None)
    }

    fn linear_onto(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        residual: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::linear_forward(x, weight, Some(bias), Some(residual))
    }
}

// The shader's own: its flags, the side of each thread's tile of C, and how many of B's column
// sums a thread takes.
const ADD_BIAS: u32 = MATMUL.constant("ADD_BIAS");
const COLUMN_SUMS: u32 = MATMUL.constant("COLUMN_SUMS");
const ADD_RESIDUAL: u32 = MATMUL.constant("ADD_RESIDUAL");
const GELU: u32 = MATMUL.constant("GELU");
const GELU_GRADIENT: u32 = MATMUL.constant("GELU_GRADIENT");
// The tiled kernel's alone: a second product as an output of its own.
const APART: u32 = MATMUL_TILED.constant("APART");
const TILE: usize = MATMUL.constant("TILE") as usize;
const TILE_ROWS: usize = MATMUL.constant("TILE_ROWS") as usize;
// The tiled kernel's block of C and its workgroup, which also takes that many column sums.
const BLOCK: usize = MATMUL_TILED.constant("BLOCK") as usize;
const TILED_WORKGROUP: usize = MATMUL_TILED.workgroup_size as usize;
const _: () = assert!(
    MATMUL_TILED.constant("ADD_BIAS") == ADD_BIAS
        && MATMUL_TILED.constant("COLUMN_SUMS") == COLUMN_SUMS
        && MATMUL_TILED.constant("ADD_RESIDUAL") == ADD_RESIDUAL
        && MATMUL_TILED.constant("GELU") == GELU
        && MATMUL_TILED.constant("GELU_GRADIENT") == GELU_GRADIENT,
    "the two matrix-product kernels read one uniform: their flags must agree"
);

/// (rows, columns) of a 2-D tensor.
pub fn dims(t: &CubeTensor) -> (usize, usize) {
    (t.meta.shape()[0], t.meta.shape()[1])
}

/// A matrix as a product reads it: element (i, p) is `tensor[i · row + p · col]`, so a
/// transposed operand is the same buffer read with its strides swapped.
pub struct Strided<'a> {
    pub tensor: &'a CubeTensor,
    pub row: usize,
    pub col: usize,
}

/// `scale · A B`, A (m × k) by B (k × n).
pub struct Product<'a> {
    pub a: Strided<'a>,
    pub b: Strided<'a>,
    pub k: usize,
    pub scale: f32,
}

/// What C adds to its products: a bias (n) in every row, a residual (m × n).
#[derive(Clone, Copy, Default)]
pub struct Added<'a> {
    pub bias: Option<&'a CubeTensor>,
    pub residual: Option<&'a CubeTensor>,
}

/// How C leaves the kernel: as summed, as GELU of that (the MLP's first layer, whose sum the
/// backward pass keeps), or times GELU'(H) (the gradient reaching the MLP's first layer through
/// its GELU, H that layer's sum).
#[derive(Clone, Copy, Default)]
enum Activation<'a> {
    #[default]
    None,
    Gelu,
    GeluGradient(&'a CubeTensor),
}

/// An input gradient's onward step as the kernel takes it: GELU' by H, or R added.
fn onward<'a>(then: InputGradient<&'a CubeTensor>) -> (Activation<'a>, Added<'a>) {
    match then {
        InputGradient::Alone => (Activation::None, Added::default()),
        InputGradient::ThroughGelu(h) => (Activation::GeluGradient(h), Added::default()),
        InputGradient::Plus(g) => (Activation::None, Added { bias: None, residual: Some(g) }),
    }
}

/// C (m × n) = `first` [+ `second`] + `added`, and the first product's B's column sums (n)
/// when `column_sums`: one dispatch of `shaders/matmul.wgsl`, plus burn's sum of the pieces
/// when a long k is split.
pub fn products(
    (m, n): (usize, usize),
    first: Product,
    second: Option<Product>,
    added: Added,
    column_sums: bool,
) -> (CubeTensor, Option<CubeTensor>) {
    let (c, sums, _) = dispatch((m, n), first, second.map(|p| (p, None)), added, Activation::None, column_sums);
    (c, sums)
}

/// (GELU(C), C) for C (m × n) = `first` [+ `second`] + `added`: the MLP's first layer, one
/// dispatch.
pub fn products_gelu(
    (m, n): (usize, usize),
    first: Product,
    second: Option<Product>,
    added: Added,
) -> (CubeTensor, CubeTensor) {
    let (c, h, _) = dispatch((m, n), first, second.map(|p| (p, None)), added, Activation::Gelu, false);
    (c, h.expect("GELU's input comes back"))
}

/// C (m × n) = `first` [+ `second`] going on as `then` says: a layer's input gradient, which
/// may go on through the GELU before the layer or join the input's other gradients.
pub fn products_through(
    (m, n): (usize, usize),
    first: Product,
    second: Option<Product>,
    then: InputGradient<&CubeTensor>,
) -> CubeTensor {
    let (activation, added) = onward(then);
    dispatch((m, n), first, second.map(|p| (p, None)), added, activation, false).0
}

/// Whether this thread's products on `like`'s device run the tiled kernel.
pub fn tiled(like: &CubeTensor) -> bool {
    hardware_form(like)
}

/// C (m × n) = `first` with its B's column sums when `column_sums`, and C2 (m2 × n2) =
/// `second` going on as `then` says: (C, the sums, C2). The two share an operand, `first`'s B as
/// `second`'s A (a backward pass's dy), which a dispatch may bind only once. One dispatch with
/// two outputs on the tiled kernel, where it saves a real GPU a launch; two on the register
/// kernel, since software WebGPU runs the two products faster apart.
pub fn products_apart(
    (m, n): (usize, usize),
    first: Product,
    column_sums: bool,
    (m2, n2): (usize, usize),
    second: Product,
    then: InputGradient<&CubeTensor>,
) -> (CubeTensor, Option<CubeTensor>, CubeTensor) {
    let shared = same_buffer(first.b.tensor, second.a.tensor) && bytes(first.b.tensor) == bytes(second.a.tensor);
    assert!(shared, "the second product's A is the first's B");
    if !tiled(first.a.tensor) {
        let (c, sums) = products((m, n), first, None, Added::default(), column_sums);
        return (c, sums, products_through((m2, n2), second, None, then));
    }
    let apart = Some((second, Some((m2, n2))));
    let (activation, added) = onward(then);
    let (c, sums, c2) = dispatch((m, n), first, apart, added, activation, column_sums);
    (c, sums, c2.expect("a second output was asked for"))
}

/// The dispatch behind the functions above: `second` comes with C2's shape when it is an output
/// of its own, without when it is summed into C; `activation` and a residual apply to C2 when
/// there is one (a bias to C).
/// (C, the column sums or with GELU its input, C2).
fn dispatch(
    (m, n): (usize, usize),
    first: Product,
    second: Option<(Product, Option<(usize, usize)>)>,
    Added { bias, residual }: Added,
    activation: Activation,
    column_sums: bool,
) -> (CubeTensor, Option<CubeTensor>, Option<CubeTensor>) {
    let like = first.a.tensor;
    let tiled = tiled(like);
    let apart = second.as_ref().and_then(|(_, apart)| *apart);
    let summed = second.is_some() && apart.is_none();
    // The register kernel: one thread per tile of C, and per `TILE` column sums, in each piece
    // of k. The tiled kernel: a workgroup per block of C, and per workgroup's worth of sums.
    // C2's tiles (or blocks) come after, once.
    let (per_piece, apart_threads, per_group) = if tiled {
        let sum_groups = if column_sums { n.div_ceil(TILED_WORKGROUP) } else { 0 };
        let blocks = |(m, n): (usize, usize)| m.div_ceil(BLOCK) * n.div_ceil(BLOCK);
        let threads = (blocks((m, n)) + sum_groups) * TILED_WORKGROUP;
        (threads, apart.map_or(0, blocks) * TILED_WORKGROUP, TILED_WORKGROUP)
    } else {
        let tiles = |(m, n): (usize, usize)| m.div_ceil(TILE_ROWS) * n.div_ceil(TILE);
        let threads = tiles((m, n)) + if column_sums { n.div_ceil(TILE) } else { 0 };
        (threads, apart.map_or(0, tiles), MATMUL.workgroup_size as usize)
    };
    // A bias, a residual, a summed second product and an activation need a whole product.
    let k = first.k;
    let (gelu, gelu_at) = match activation {
        Activation::None => (false, None),
        Activation::Gelu => (true, None),
        Activation::GeluGradient(h) => (false, Some(h)),
    };
    let on_c = |step: bool| step && apart.is_none();
    let whole = bias.is_some() || on_c(residual.is_some()) || summed || gelu || on_c(gelu_at.is_some());
    // Binding 4 holds the sums or GELU's input, binding 7 the residual or GELU's input.
    assert!(!(gelu && column_sums), "the column sums and GELU's input share a binding");
    assert!(residual.is_none() || gelu_at.is_none(), "the residual and GELU's input share a binding");
    let pieces = if whole { 1 } else { pieces_for(per_piece, k) };
    let k_piece = k.div_ceil(pieces).max(1);
    let c = empty(like, [pieces, m, n]);
    let sums = if gelu { Some(empty(like, [m, n])) } else { column_sums.then(|| empty(like, [pieces, n])) };
    let c2 = apart.map(|shape| empty(like, [shape.0, shape.1]));
    let flags = if bias.is_some() { ADD_BIAS } else { 0 }
        | if column_sums { COLUMN_SUMS } else { 0 }
        | if apart.is_some() { APART } else { 0 }
        | if residual.is_some() { ADD_RESIDUAL } else { 0 }
        | if gelu { GELU } else { 0 }
        | if gelu_at.is_some() { GELU_GRADIENT } else { 0 };
    let stand_in = || empty(like, [1]);
    let (stand_in_bias, stand_in_sums, stand_in_a2, stand_in_b2) = (stand_in(), stand_in(), stand_in(), stand_in());
    let stand_in_residual = stand_in();
    let info = Info::new().usize(m).usize(n).usize(k);
    let info = info.usize(first.a.row).usize(first.a.col).usize(first.b.row).usize(first.b.col);
    let info = info.u32(flags).usize(k_piece).f32(first.scale);
    let info = match &second {
        Some((p, _)) => info.usize(p.k).usize(p.a.row).usize(p.a.col).usize(p.b.row).usize(p.b.col).f32(p.scale),
        None => info.u32(0).u32(0).u32(0).u32(0).u32(0).f32(0.0),
    };
    let (m2, n2) = apart.unwrap_or((0, 0));
    let info = info.usize(m2).usize(n2);
    let buffers = [
        first.a.tensor,
        first.b.tensor,
        c2.as_ref().or(bias).unwrap_or(&stand_in_bias),
        &c,
        sums.as_ref().unwrap_or(&stand_in_sums),
        match &second {
            Some((p, None)) => p.a.tensor,
            _ => &stand_in_a2,
        },
        second.as_ref().map_or(&stand_in_b2, |(p, _)| p.b.tensor),
        residual.or(gelu_at).unwrap_or(&stand_in_residual),
    ];
    let shader = if tiled { &MATMUL_TILED } else { &MATMUL };
    let groups = (per_piece * pieces + apart_threads).div_ceil(per_group);
    launch(shader, (groups.clamp(1, MAX_WORKGROUPS as usize) as u32, 1), &buffers, info);
    let sums = sums.map(|s| if gelu { s } else { sum_pieces(s, [n]) });
    (sum_pieces(c, [m, n]), sums, c2)
}

// `shaders/matmul_three.wgsl`'s own: its modes, and how many products it takes.
const SIDE_BY_SIDE: u32 = MATMUL_THREE.constant("SIDE_BY_SIDE");
const THREE_BIAS: u32 = MATMUL_THREE.constant("ADD_BIAS");
const THREE_SUMS: u32 = MATMUL_THREE.constant("COLUMN_SUMS");
const PRODUCTS: usize = MATMUL_THREE.constant("PRODUCTS") as usize;
const _: () = assert!(
    MATMUL_THREE.constant("TILE") as usize == TILE && MATMUL_THREE.constant("TILE_ROWS") as usize == TILE_ROWS,
    "the register kernels' tiles agree"
);

/// Threads `shaders/matmul_three.wgsl` runs: one per tile of C, and per `TILE` column sums, in
/// each product side by side; one per tile of the one C when summed.
fn three_threads((m, n): (usize, usize), flags: u32) -> usize {
    let tiles = m.div_ceil(TILE_ROWS) * n.div_ceil(TILE);
    let sums = if flags & THREE_SUMS != 0 { n.div_ceil(TILE) } else { 0 };
    if flags & SIDE_BY_SIDE != 0 { PRODUCTS * (tiles + sums) } else { tiles }
}

/// One dispatch of `shaders/matmul_three.wgsl`: products of (m × k) by (k × n), A's three
/// `a_seg` values apart in one buffer (0: one A), the three B read with one pair of (row, col)
/// strides, bindings 4–6 from `extras`, and C's three `c_seg` values apart in `c`.
fn three(
    (m, n, k): (usize, usize, usize),
    (a, a_seg): (Strided, usize),
    (bs, (b_row, b_col)): ([&CubeTensor; 3], (usize, usize)),
    extras: Option<[&CubeTensor; 3]>,
    (c, c_seg): (&CubeTensor, usize),
    flags: u32,
) {
    let info = Info::new().usize(m).usize(n).usize(k).usize(a.row).usize(a.col).usize(a_seg);
    let info = info.usize(b_row).usize(b_col).usize(c_seg).u32(flags);
    let stand_ins = [(); 3].map(|_| empty(c, [1]));
    let [e0, e1, e2] = extras.unwrap_or([&stand_ins[0], &stand_ins[1], &stand_ins[2]]);
    let groups = workgroups_for(&MATMUL_THREE, three_threads((m, n), flags));
    launch(&MATMUL_THREE, groups, &[a.tensor, bs[0], bs[1], bs[2], e0, e1, e2, c], info);
}

/// x W for x (rows, d_in) and W (d_in, d_out), both row-major.
fn forward_product<'a>(x: &'a CubeTensor, weight: &'a CubeTensor) -> Product<'a> {
    let (d_in, d_out) = dims(weight);
    Product {
        a: Strided { tensor: x, row: d_in, col: 1 },
        b: Strided { tensor: weight, row: d_out, col: 1 },
        k: d_in,
        scale: 1.0,
    }
}

impl LinearKernels for CubeBackend {
    fn linear_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        residual: Option<FloatTensor<Self>>,
    ) -> FloatTensor<Self> {
        let [x, weight, bias, residual] = optional_inputs([Some(x), Some(weight), bias, residual]);
        let (x, weight) = (x.expect("given"), weight.expect("given"));
        let added = Added { bias: bias.as_ref(), residual: residual.as_ref() };
        products((dims(&x).0, dims(&weight).1), forward_product(&x, &weight), None, added, false).0
    }

    fn linear_gelu_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let [x, weight, bias] = inputs([x, weight, bias]);
        let added = Added { bias: Some(&bias), residual: None };
        products_gelu((dims(&x).0, dims(&weight).1), forward_product(&x, &weight), None, added)
    }

    fn linear_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        input: bool,
        params: bool,
        onward: InputGradient<FloatTensor<Self>>,
    ) -> LinearGradients<Self> {
        let [x, weight, dy, g] = optional_inputs([Some(x), Some(weight), Some(dy), onward.tensor().cloned()]);
        let (x, weight, dy) = (x.expect("given"), weight.expect("given"), dy.expect("given"));
        let then = onward.with(g.as_ref());
        let ((rows, d_in), (_, d_out)) = (dims(&x), dims(&weight));
        let strided = |tensor, row, col| Strided { tensor, row, col };
        // dy Wᵀ, Wᵀ (d_out × d_in) read as W with its strides swapped.
        let input_product = Product { a: strided(&dy, d_out, 1), b: strided(&weight, 1, d_out), k: d_out, scale: 1.0 };
        // xᵀ dy, xᵀ (d_in × rows) likewise; dy's column sums come with it.
        let weight_product = Product { a: strided(&x, 1, d_in), b: strided(&dy, d_out, 1), k: rows, scale: 1.0 };
        match (input, params) {
            (true, true) => {
                let (dw, db, dx) =
                    products_apart((d_in, d_out), weight_product, true, (rows, d_in), input_product, then);
                (Some(dx), Some((dw, db.expect("asked for the column sums"))))
            }
            (input, params) => {
                let dx = input.then(|| products_through((rows, d_in), input_product, None, then));
                let dw_db = params.then(|| {
                    let (dw, db) = products((d_in, d_out), weight_product, None, Added::default(), true);
                    (dw, db.expect("asked for the column sums"))
                });
                (dx, dw_db)
            }
        }
    }

    /// One dispatch on the register kernel, q, k and v written `VIEW_ALIGN`-spaced in one buffer
    /// (attention binds each as a view); three products on the tiled one.
    fn linear_three_forward(
        x: FloatTensor<Self>,
        weights: [FloatTensor<Self>; 3],
        biases: [FloatTensor<Self>; 3],
    ) -> [FloatTensor<Self>; 3] {
        if tiled(&x) {
            return three_forward_apart::<Self>(x, weights, biases);
        }
        let ([w0, w1, w2], [b0, b1, b2]) = (weights, biases);
        let [x, w0, w1, w2, b0, b1, b2] = inputs([x, w0, w1, w2, b0, b1, b2]);
        let ((rows, d_in), (_, d_out)) = (dims(&x), dims(&w0));
        let shape = Shape::from([rows, d_out]);
        let (c, seg) = side_by_side(&x, PRODUCTS, &shape);
        let a = Strided { tensor: &x, row: d_in, col: 1 };
        let biases = Some([&b0, &b1, &b2]);
        let weights = ([&w0, &w1, &w2], (d_out, 1));
        three((rows, d_out, d_in), (a, 0), weights, biases, (&c, seg), SIDE_BY_SIDE | THREE_BIAS);
        views(&c, seg, &shape)
    }

    /// Two dispatches on the register kernel (the input's gradient, then the three layers'
    /// side by side), where three layers took six. Three layers' backward passes otherwise: on
    /// the tiled kernel, where the dy do not lie in one buffer at one spacing (attention's
    /// backward pass writes them so), or where a long sum over rows would be cut into pieces.
    fn linear_three_backward(
        x: FloatTensor<Self>,
        weights: [FloatTensor<Self>; 3],
        dys: [FloatTensor<Self>; 3],
        input: bool,
        params: bool,
    ) -> ThreeGradients<Self> {
        let ((rows, d_in), (_, d_out)) = (dims(&x), dims(&weights[0]));
        let spaced = spacing(&dys);
        let whole_sums = pieces_for(three_threads((d_in, d_out), SIDE_BY_SIDE | THREE_SUMS), rows) == 1;
        if tiled(&x) || spaced.is_none() || (params && !whole_sums) {
            return three_backward_apart::<Self>(x, weights, dys, input, params);
        }
        let a_seg = spaced.expect("checked");
        let ([w0, w1, w2], [dy0, dy1, dy2]) = (weights, dys);
        let [x, w0, w1, w2] = inputs([x, w0, w1, w2]);
        let dx = input.then(|| {
            // Σ_s dy_s W_sᵀ: the three dy_s as one binding, W_sᵀ read as W_s with its strides
            // swapped.
            let dx = empty(&x, [rows, d_in]);
            let dys = span(&dy0, 2 * a_seg + rows * d_out);
            let a = Strided { tensor: &dys, row: d_out, col: 1 };
            three((rows, d_in, d_out), (a, a_seg), ([&w0, &w1, &w2], (1, d_out)), None, (&dx, 0), 0);
            dx
        });
        let gradients = params.then(|| {
            // xᵀ dy_s side by side, each with dy_s's column sums.
            let shape = Shape::from([d_in, d_out]);
            let (dw, seg) = side_by_side(&x, PRODUCTS, &shape);
            let db = [(); 3].map(|_| empty(&x, [d_out]));
            let a = Strided { tensor: &x, row: 1, col: d_in };
            let (dys, sums) = (([&dy0, &dy1, &dy2], (d_out, 1)), Some([&db[0], &db[1], &db[2]]));
            three((d_in, d_out, rows), (a, 0), dys, sums, (&dw, seg), SIDE_BY_SIDE | THREE_SUMS);
            let mut db = db.into_iter();
            views::<3>(&dw, seg, &shape).map(|dw| (dw, db.next().expect("one a layer")))
        });
        (dx, gradients)
    }
}
