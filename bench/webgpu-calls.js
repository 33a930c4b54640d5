// Counts the WebGPU calls a page makes, per training step: kernel dispatches, queue submits,
// buffers created, uploads and readbacks. bench/browser.mjs --gpu-calls injects this before any
// page script runs; the bench pages announce each finished step with a `bench:step` event, and
// `window.webgpuCallsPerStep` holds one record of counts per step.
(() => {
  if (!('GPUDevice' in self)) return;
  const totals = { dispatches: 0, submits: 0, command_buffers: 0, passes: 0, buffers_created: 0, buffer_bytes_created: 0, uploads: 0, upload_bytes: 0, readbacks: 0, pipelines_created: 0, bind_groups_created: 0 };
  const count = (proto, name, update) => {
    const original = proto[name];
    if (typeof original !== 'function') return; // not in this browser: leave feature checks alone
    proto[name] = function (...args) {
      update(...args);
      return original.apply(this, args);
    };
  };
  // Dispatches by the label of the pipeline bound at the time (what each library names its kernels).
  const byKernel = new Map();
  let current = '(none)';
  count(GPUComputePassEncoder.prototype, 'setPipeline', (pipeline) => { current = pipeline.label || '(unlabelled)'; });
  count(GPUComputePassEncoder.prototype, 'dispatchWorkgroups', () => {
    totals.dispatches++;
    byKernel.set(current, (byKernel.get(current) ?? 0) + 1);
  });
  count(GPUCommandEncoder.prototype, 'beginComputePass', () => totals.passes++);
  count(GPUQueue.prototype, 'submit', (buffers) => { totals.submits++; totals.command_buffers += buffers.length; });
  count(GPUQueue.prototype, 'writeBuffer', (buffer, offset, data, dataOffset = 0, size) => {
    totals.uploads++;
    totals.upload_bytes += size ?? (data.byteLength - dataOffset * (data.BYTES_PER_ELEMENT ?? 1));
  });
  count(GPUBuffer.prototype, 'mapAsync', () => totals.readbacks++);
  count(GPUDevice.prototype, 'createBuffer', (d) => { totals.buffers_created++; totals.buffer_bytes_created += d.size; });
  count(GPUDevice.prototype, 'createComputePipeline', () => totals.pipelines_created++);
  count(GPUDevice.prototype, 'createComputePipelineAsync', () => totals.pipelines_created++);
  count(GPUDevice.prototype, 'createBindGroup', () => totals.bind_groups_created++);

  let last = { ...totals };
  self.webgpuCallsPerStep = [];
  self.webgpuKernelsPerStep = [];
  addEventListener('bench:step', () => {
    self.webgpuCallsPerStep.push(Object.fromEntries(Object.keys(totals).map((k) => [k, totals[k] - last[k]])));
    self.webgpuKernelsPerStep.push(Object.fromEntries(byKernel));
    byKernel.clear();
    last = { ...totals };
  });
})();
