import { useEffect } from 'react';

/** <finetune-lab> with its attributes; the element is registered once it is in a browser. */
export default function FinetuneLab(props) {
  // `docusaurus build` renders every page in Node, which has no custom elements: effects run in
  // the browser only.
  useEffect(() => {
    import('finetune-lab/define');
  }, []);
  return <finetune-lab {...props} />;
}
