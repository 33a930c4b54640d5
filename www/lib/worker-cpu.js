// The Lab worker on the CPU-only build (pkg-cpu/), for browsers without WebGPU (lab-worker.js).
import * as glue from '../pkg-cpu/finetune_lab.js';
import { serveLabs } from './lab-worker.js';

serveLabs(glue);
