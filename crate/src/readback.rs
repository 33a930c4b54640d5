//! Reading tensors back to the host. On WebGPU a synchronous read panics, so everything that
//! leaves the device goes through these async functions; native callers wrap them in `block_on`.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use burn::tensor::Tensor;

/// A failed read is an error, not a panic: on WebGPU it usually means the device was lost, and
/// the page must hear about it (a panic in wasm aborts and leaves the caller's promise hanging).
pub async fn read_f32<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, String> {
    let data = tensor.into_data_async().await.map_err(|e| format!("reading from the device failed: {e:?}"))?;
    data.try_into_vec::<f32>().map_err(|e| format!("the device returned unexpected data: {e:?}"))
}

pub async fn read_scalar(tensor: Tensor<1>) -> Result<f32, String> {
    Ok(read_f32(tensor).await?[0])
}

/// Drive a future to completion on the calling thread. The native backends resolve readbacks
/// without a reactor, so polling in a loop is enough; never call this on wasm.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}
