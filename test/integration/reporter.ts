// Mocha's spec reporter plus one plain closing line, `N passed, N failed`, that CI and the launchers read
// whichever route ran the suites (the extension host's console is all that comes back from it).
import Mocha from 'mocha';

const { EVENT_RUN_END } = Mocha.Runner.constants;

export default class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats;
      const pending = s?.pending ? `, ${s.pending} skipped` : '';
      console.log(`${s?.passes ?? 0} passed, ${s?.failures ?? 0} failed${pending}`);
    });
  }
}
