// Counts the WebGPU calls a page makes, per training step: kernel dispatches, queue submits,
// buffers created, uploads and readbacks. bench/browser.mjs --gpu-calls injects this before any
// page script runs; the bench pages announce each finished step, or batch of steps read back
// together (`detail.steps`), with a `bench:step` event, and `window.webgpuCallsPerStep` holds
// one record of counts per event. `webgpuKernelName(pipeline)` names a pipeline's kernel.
(() => {
  if (!('GPUDevice' in self)) return;
  const totals = {
    dispatches: 0,
    submits: 0,
    command_buffers: 0,
    passes: 0,
    buffers_created: 0,
    buffer_bytes_created: 0,
    uploads: 0,
    upload_bytes: 0,
    readbacks: 0,
    pipelines_created: 0,
    bind_groups_created: 0,
  };
  const count = (proto, name, update) => {
    const original = proto[name];
    if (typeof original !== 'function') return; // not in this browser: leave feature checks alone
    proto[name] = function (...args) {
      update(...args);
      return original.apply(this, args);
    };
  };
  // Dispatches by the label of the pipeline bound at the time (what each library names its kernels).
  // burn labels every pipeline by its entry point, `main` for all of ours; our shaders' source
  // opens with `// shaders/NAME.wgsl`, so those are named by file instead.
  const byKernel = new Map();
  const ourNames = new WeakMap(); // shader module or pipeline → "shaders/NAME.wgsl"
  let current = '(none)';
  const wrapReturn = (proto, name, after) => {
    const original = proto[name];
    if (typeof original !== 'function') return;
    proto[name] = function (...args) {
      const result = original.apply(this, args);
      after(result, ...args);
      return result;
    };
  };
  wrapReturn(GPUDevice.prototype, 'createShaderModule', (module, d) => {
    const ours = /^\/\/ (shaders\/[\w-]+\.wgsl)/.exec(d?.code ?? '');
    if (ours) ourNames.set(module, ours[1]);
  });
  const nameFrom = (pipeline, d) => {
    const name = ourNames.get(d?.compute?.module);
    if (name) ourNames.set(pipeline, name);
  };
  wrapReturn(GPUDevice.prototype, 'createComputePipeline', nameFrom);
  const asyncPipeline = GPUDevice.prototype.createComputePipelineAsync;
  if (typeof asyncPipeline === 'function') {
    GPUDevice.prototype.createComputePipelineAsync = async function (d) {
      const pipeline = await asyncPipeline.call(this, d);
      nameFrom(pipeline, d);
      return pipeline;
    };
  }
  /** A pipeline's kernel: the file of ours it runs, or its library's label. */
  self.webgpuKernelName = (pipeline) => ourNames.get(pipeline) ?? (pipeline.label || '(unlabelled)');
  const pipelinesThisStep = new Set(); // distinct compiled kernels a step runs
  count(GPUComputePassEncoder.prototype, 'setPipeline', (pipeline) => {
    current = self.webgpuKernelName(pipeline);
    pipelinesThisStep.add(pipeline);
  });
  count(GPUComputePassEncoder.prototype, 'dispatchWorkgroups', () => {
    totals.dispatches++;
    byKernel.set(current, (byKernel.get(current) ?? 0) + 1);
  });
  count(GPUCommandEncoder.prototype, 'beginComputePass', () => totals.passes++);
  count(GPUQueue.prototype, 'submit', (buffers) => {
    totals.submits++;
    totals.command_buffers += buffers.length;
  });
  count(GPUQueue.prototype, 'writeBuffer', (buffer, offset, data, dataOffset = 0, size) => {
    totals.uploads++;
    totals.upload_bytes += size ?? data.byteLength - dataOffset * (data.BYTES_PER_ELEMENT ?? 1);
  });
  count(GPUBuffer.prototype, 'mapAsync', () => totals.readbacks++);
  count(GPUDevice.prototype, 'createBuffer', (d) => {
    totals.buffers_created++;
    totals.buffer_bytes_created += d.size;
  });
  count(GPUDevice.prototype, 'createComputePipeline', () => totals.pipelines_created++);
  count(GPUDevice.prototype, 'createComputePipelineAsync', () => totals.pipelines_created++);
  count(GPUDevice.prototype, 'createBindGroup', () => totals.bind_groups_created++);

  let last = { ...totals };
  self.webgpuCallsPerStep = [];
  self.webgpuKernelsPerStep = [];
  // An event may close several steps whose losses were read back together (`detail.steps`):
  // their calls are recorded per step, as the batch's over its size.
  addEventListener('bench:step', (event) => {
    const steps = event.detail?.steps ?? 1;
    const calls = Object.fromEntries(Object.keys(totals).map((k) => [k, (totals[k] - last[k]) / steps]));
    // `after`: the steps finished before this event's, so a reader can leave out a warm-up.
    const after = (event.detail?.step ?? 0) - steps;
    self.webgpuCallsPerStep.push({ ...calls, distinct_kernels: pipelinesThisStep.size, after });
    self.webgpuKernelsPerStep.push(Object.fromEntries([...byKernel].map(([k, n]) => [k, n / steps])));
    byKernel.clear();
    pipelinesThisStep.clear();
    last = { ...totals };
  });
})();
