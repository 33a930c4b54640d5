//! Matrix products on the CPU for our operations: the `gemm` crate (burn's CPU backend's own, so
//! its SIMD and wasm settings carry over) on strided views, so a head's slice of a (B, T, C)
//! buffer or a transposed operand is read in place.

/// A matrix inside a buffer: its first element and its row and column strides.
#[derive(Clone, Copy)]
pub struct View {
    pub at: usize,
    pub row: isize,
    pub col: isize,
}

impl View {
    /// Rows of `stride` elements from `at`, each row contiguous.
    pub fn rows(at: usize, stride: usize) -> Self {
        Self { at, row: stride as isize, col: 1 }
    }

    pub fn transposed(self) -> Self {
        Self { at: self.at, row: self.col, col: self.row }
    }
}

/// `dst[d] = scale · lhs[l] (m × k) · rhs[r] (k × n)`, plus what `dst[d]` held when
/// `accumulate`.
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: &mut [f32],
    d: View,
    lhs: &[f32],
    l: View,
    rhs: &[f32],
    r: View,
    scale: f32,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    // Every index the views reach stays inside its slice.
    let last = |v: View, rows: usize, cols: usize| {
        v.at as isize + (rows as isize - 1) * v.row + (cols.max(1) as isize - 1) * v.col
    };
    assert!(
        last(d, m, n) < dst.len() as isize
            && (k == 0 || last(l, m, k) < lhs.len() as isize && last(r, k, n) < rhs.len() as isize),
        "a view reaches past its buffer"
    );
    // SAFETY: the pointers and strides address only elements checked above; `dst` is borrowed
    // mutably, so it overlaps neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr().add(d.at),
            d.col,
            d.row,
            accumulate,
            lhs.as_ptr().add(l.at),
            l.col,
            l.row,
            rhs.as_ptr().add(r.at),
            r.col,
            r.row,
            1.0,
            scale,
            false,
            false,
            false,
            parallelism(m, n, k),
        );
    }
}

/// Threads for products of 192³ multiply-adds and more natively, as burn's CPU backend decides;
/// the browser's CPU path has no threads.
fn parallelism(m: usize, n: usize, k: usize) -> gemm::Parallelism {
    #[cfg(not(target_family = "wasm"))]
    if m.saturating_mul(n).saturating_mul(k) >= 192 * 192 * 192 {
        return gemm::Parallelism::Rayon(0);
    }
    let _ = (m, n, k);
    gemm::Parallelism::None
}
