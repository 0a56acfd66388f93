import type { Logger } from '../../log.js';
import {
  type LineChild,
  type LineChildOptions,
  RESTART_DELAYS,
  type RestartBackoff,
  type RestartDelays,
  restartBackoff,
  spawnLineChild,
} from '../sources/index.js';
import { PmonParser } from './pmon-parser.js';
import type { PmonShares } from './pmon-shares.js';

/** How a pmon child is run: the feed's options (PmonFeedOptions) but for its GPUs and start. */
export interface PmonChildOptions {
  /** `nvidia-smi` on PATH by default. */
  binary?: string;
  /**
   * Says that a pmon child ended mid-run and reads again, and that one SIGKILL did not end was
   * let go of, as the meter's own readers say it (`run` passes its logger); without it, the
   * restarts go unsaid (the outcome says them) and a Node warning says the child let go of.
   */
  logger?: Logger;
  /** How the children are started and signalled (tests: a child that never ends). */
  lineChild?: LineChildOptions;
  /** How long a child that ended mid-run waits to be started again; RESTART_DELAYS. */
  restartBackoffMs?: RestartDelays;
}

/** A pmon child's arguments and the GPUs it watches. */
export interface PmonGroup {
  args: string[];
  gpus: readonly number[];
}

/** What a pmon child tells the feed that runs it. */
export interface PmonChildEvents {
  /** Its first child printed its header. */
  headed(): void;
  /** It cannot be read, for good: the reason, in words, after `nvidia-smi pmon `. */
  failed(reason: string): void;
  /** Whether a child that ended now is started again (the feed began, and is not stopping). */
  restarts(): boolean;
}

/**
 * One group's `nvidia-smi pmon`, its rows fed into the shares. Once the feed has begun, a child
 * that ends is started again after the back-off (restart-backoff.ts, as the meter's nvidia-smi
 * is), one at a time: its GPUs' share is unknown (shares.pause()) until one prints its header.
 * Said once when it goes (once more where the binary is gone) and once when it reads again.
 */
export class PmonChild {
  private child: LineChild | undefined;
  private readonly backoff: RestartBackoff;
  private readonly binary: string;
  private stopped = false;
  /** Whether its first child printed its header. */
  private headedOnce = false;

  constructor(
    private readonly group: PmonGroup,
    private readonly shares: PmonShares,
    private readonly options: PmonChildOptions,
    private readonly events: PmonChildEvents,
  ) {
    this.binary = options.binary ?? 'nvidia-smi';
    this.backoff = restartBackoff(options.restartBackoffMs ?? RESTART_DELAYS);
    this.start();
  }

  /** Stops the child, and any start pending: none is made after this. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.backoff.cancel();
    await this.child?.stop();
  }

  private start(): void {
    if (this.stopped) return;
    const parser = new PmonParser();
    let headed = false;
    let firstOther = '';
    let stderr = '';
    /** A `Not Supported` line: pmon cannot read these GPUs, for good. */
    const unsupported = (text: string) => {
      const line = text.split('\n').find((l) => /not supported/i.test(l));
      if (line === undefined) return false;
      this.events.failed(`says: ${line.trim()}`);
      return true;
    };
    const logger = this.options.logger;
    const onDetach = logger
      ? (pid: number) =>
          logger.warn(
            { pid },
            `nvidia-smi pmon (pid ${pid}) did not end after SIGKILL (stuck in the kernel?); ` +
              'left behind, its GPU use no longer read',
          )
      : undefined;
    this.backoff.started();
    this.child = spawnLineChild(
      this.binary,
      this.group.args,
      {
        onDetach,
        onLine: (line) => {
          const row = parser.line(line);
          if (row) {
            this.shares.add(row);
            return;
          }
          const text = line.trim();
          if (unsupported(text)) return;
          if (!text.startsWith('#') && text && !firstOther) firstOther = text;
          if (parser.ready && !headed) {
            headed = true;
            this.onHeader();
          }
        },
        onStderr(text) {
          if (stderr.length < 500) stderr += text;
          unsupported(text);
        },
        onExit: (code, signal, error) => {
          if (this.stopped) return;
          let why: string;
          if (error) {
            why = error.code === 'ENOENT' ? 'not found' : `cannot start: ${error.message}`;
          } else {
            const said = firstOther || stderr.trim().split('\n')[0] || '';
            why = `ended (${code === null ? signal : `exit ${code}`}${said ? `: ${said}` : ''})`;
          }
          if (this.headedOnce && this.events.restarts()) this.ended(why, error);
          else this.events.failed(why);
        },
      },
      this.options.lineChild,
    );
  }

  private onHeader(): void {
    if (!this.headedOnce) {
      this.headedOnce = true;
      this.events.headed();
      return;
    }
    if (!this.backoff.readsAgain()) return;
    this.shares.resume(this.group.gpus);
    const devices = this.devices();
    this.options.logger?.warn(
      { devices },
      `nvidia-smi pmon reads again: the command's share of ${devices} counts again from its ` +
        'next sample',
    );
  }

  /** A child ended mid-run: its GPUs' share is unknown until one started again prints. */
  private ended(why: string, error: NodeJS.ErrnoException | undefined): void {
    const end = this.backoff.ended(error?.code === 'ENOENT', () => this.start());
    if (end.began) this.shares.pause(this.group.gpus, why.replace(/^ended \((.*)\)$/, '$1'));
    const logger = this.options.logger;
    if (end.say === 'missing') {
      logger?.warn(
        {},
        `nvidia-smi pmon: ${this.binary} not found; tried again every ${end.waitMs} ms until it is`,
      );
    } else if (end.say === 'ended') {
      logger?.warn(
        { why },
        `nvidia-smi pmon ${why}; the command's share of ${this.devices()} is unknown until it ` +
          `is started again (in ${end.waitMs} ms)`,
      );
    }
  }

  /** `gpu0, gpu1`. */
  private devices(): string {
    return this.group.gpus.map((i) => `gpu${i}`).join(', ');
  }
}
