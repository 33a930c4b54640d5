// The Lab worker on the full build (WebGPU and the CPU path). Its own file, importing its glue
// by a literal path, so a bundler makes it a worker bundle of its own (lab-worker.js).
import * as glue from '../pkg/finetune_lab.js';
import { serveLabs } from './lab-worker.js';

serveLabs(glue);
