//! Reading tensors back to the host. On WebGPU a synchronous read panics, so everything that
//! leaves the device goes through these async functions; native callers wrap them in `block_on`.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use burn::tensor::Tensor;

pub async fn read_f32<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    let data = tensor.into_data_async().await.expect("tensor readback failed");
    data.try_into_vec::<f32>().expect("float tensor holds f32")
}

pub async fn read_scalar(tensor: Tensor<1>) -> f32 {
    read_f32(tensor).await[0]
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
