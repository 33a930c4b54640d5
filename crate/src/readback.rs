//! Reading tensors back to the host. On WebGPU a synchronous read panics, so everything that
//! leaves the device goes through these async functions; native callers wrap them in `block_on`.

use std::fmt::Debug;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Device, Tensor, TensorData, Transaction};

use crate::checkpoint::named_values;

/// A failed read is an error, not a panic: on WebGPU it usually means the device was lost, and
/// the page must hear about it (a panic in wasm aborts and leaves the caller's promise hanging).
pub async fn read_f32<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, String> {
    f32_values(tensor.into_data_async().await.map_err(read_failed)?)
}

/// Several tensors read back together (burn's `Transaction`): their copies go to the device as
/// one piece of work and are waited for once, where reading them in turn waits once each.
pub async fn read_all_f32(tensors: Vec<Tensor<1>>) -> Result<Vec<Vec<f32>>, String> {
    let reads = tensors.into_iter().fold(Transaction::default(), |reads, t| reads.register(t));
    reads.execute_async().await.map_err(read_failed)?.into_iter().map(f32_values).collect()
}

fn read_failed(e: impl Debug) -> String {
    format!("reading from the device failed: {e:?}")
}

fn f32_values(data: TensorData) -> Result<Vec<f32>, String> {
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

/// A copy of `module` on the CPU, every float parameter read back from its device (where
/// sampling runs: `generate`).
pub async fn copy_to_cpu<M: Module>(module: &M) -> Result<M, String> {
    let values = named_values(module).await?;
    let mut place = PlaceOnCpu { values: values.into_iter() };
    Ok(module.clone().map(&mut place))
}

/// Puts each float parameter's values, read back in the order a visitor meets them, on the CPU.
struct PlaceOnCpu {
    values: std::vec::IntoIter<(String, Vec<f32>)>,
}

impl ModuleMapper for PlaceOnCpu {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (_, values) = self.values.next().expect("a mapper meets the parameters a visitor met, in order");
        let data = TensorData::new(values, param.dims().to_vec());
        // A new parameter: loading into the old one would move the values back to its device.
        Param::initialized(param.id, Tensor::from_data(data, &Device::flex()))
    }
}
