// On and off actions (Citect's alarm category On Action / Off Action): run only by the instance
// that holds the duty, once per episode. That an action ran is itself a fact of the episode,
// replicated like an ack, so the instance taking the duty over knows what is still owed:
// - on: the episode is active, not shelved, and no instance has run its on action;
// - off: the episode has cleared and its on action ran, but its off action has not.
// An episode that began and ended while nobody held the duty runs neither (its on action would
// fire after the fact). Across a crash of the holder between running an action and replicating
// that fact, the new holder runs it again: at least once, with the duty epoch in the message so
// a consumer can tell the two holders' outputs apart.
import type { AlarmEngine } from './engine';
import type { AlarmAction } from './types';

export interface DutyView {
  holder: boolean;
  epoch: number;
}

export class AlarmActions {
  /** Off until the start-up catch-up is done: actions the peer already ran must be known first. */
  private enabled = false;

  constructor(
    private readonly engine: AlarmEngine,
    private readonly duty: () => DutyView,
    private readonly fire: (a: AlarmAction) => void,
  ) {}

  /** Enables actions and runs what is owed. */
  async enable(): Promise<number> {
    this.enabled = true;
    return this.sweep(true);
  }

  isEnabled(): boolean {
    return this.enabled;
  }

  /** Runs what is owed on every alarm (the duty was taken, the state caught up). Returns how many ran. */
  async sweep(takenOver: boolean): Promise<number> {
    let n = 0;
    for (const key of this.engine.keys()) n += await this.check(key, takenOver);
    return n;
  }

  /** Runs the action owed on one alarm, if this instance holds the duty. */
  async check(key: string, takenOver = false): Promise<number> {
    if (!this.enabled) return 0;
    const duty = this.duty();
    if (!duty.holder) return 0;
    const view = this.engine.view(key);
    if (!view || view.shelved !== 'unshelved') return 0;
    let action: 'on' | 'off' | undefined;
    if (view.active && !view.onActionDone) action = 'on';
    else if (!view.active && view.onActionDone && !view.offActionDone) action = 'off';
    if (!action) return 0;
    // The fact first (in memory at once), so a change event raised meanwhile finds it done.
    const recorded = this.engine.recordAction(key, view.seq, action, duty.epoch);
    this.fire({ action, alarm: view, epoch: duty.epoch, takenOver });
    await recorded;
    return 1;
  }
}
