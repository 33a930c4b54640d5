// What an author's TypeScript writes against the package's declarations: it must compile
// (tsconfig.types.json), and the lines marked @ts-expect-error must not.
import { FinetuneLab, type FinetuneDoneDetail, type ServeOutput, type SweepPoint } from 'finetune-lab';
import 'finetune-lab/define';

FinetuneLab.assetBase = '/static/finetune-lab/';

const lab = document.querySelector('finetune-lab');
if (lab) {
  lab.steps = 50;
  const steps: number | null = lab.steps;
  lab.task = 'qa';
  lab.backend = 'cpu';
  lab.addEventListener('finetune-progress', (e) => console.log(e.detail.step, e.detail.loss, e.detail.timing));
  lab.addEventListener('finetune-done', (e) => console.log(e.detail.heldout_after, e.detail.format_after?.follows));
  lab.addEventListener('finetune-sweep-done', (e) => console.log(e.detail.points.length, e.detail.stopped));
  lab.addEventListener('finetune-serve-done', (e) => console.log(e.detail.outputs[0]?.text, e.detail.chars));
  const done: Promise<FinetuneDoneDetail> = lab.run('adapter', { steps: 20, rank: 4, targets: 'q,v' });
  const points: Promise<SweepPoint[]> = lab.sweep();
  const served: Promise<ServeOutput[]> = lab.serve(
    [
      { tenant: 'base', prompt: 'The ' },
      { tenant: 1, prompt: 'Q: ' },
    ],
    { chars: 20 },
  );
  const url: string = lab.settingsURL();
  lab.stop();
  const cleared: boolean = lab.reset();
  // @ts-expect-error: the mode is "full" or "adapter"
  lab.run('half');
  // @ts-expect-error: steps is a number
  lab.run('full', { steps: '20' });
  // @ts-expect-error: backend is "auto" or "cpu"
  lab.backend = 'gpu';
  console.log(steps, done, points, served, url, cleared);
}

const made = document.createElement('finetune-lab');
made.rank = 8;
document.body.append(made);
