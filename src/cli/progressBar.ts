/**
 * Terminal progress for training: one cli-progress bar per epoch (loss, accuracy, img/s, ETA)
 * on a TTY; one plain line per epoch otherwise; nothing with --quiet. Writes to stderr so that
 * stdout stays clean for --json.
 */
import cliProgress from 'cli-progress';
import type { Reporter } from '../train/trainer.js';
import type { MetricsRow } from '../runs/metrics.js';

const pct = (v: number | string | undefined): string => (typeof v === 'number' ? `${(100 * v).toFixed(2)}%` : '-');

function epochLine(row: MetricsRow): string {
  const n = (k: string): number => Number(row[k]);
  return (
    `epoch ${row.epoch}: train loss ${n('train_loss').toFixed(4)} acc ${pct(row.train_acc)}` +
    ` | test loss ${typeof row.test_loss === 'number' ? row.test_loss.toFixed(4) : '-'} acc ${pct(row.test_acc)}` +
    ` | ${n('train_img_per_s').toFixed(0)} img/s, ${n('epoch_seconds').toFixed(1)} s`
  );
}

export function terminalReporter(quiet: boolean): Reporter {
  if (quiet) return { epochStart: () => {}, batch: () => {}, epochEnd: () => {} };
  const tty = process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | null = null;
  return {
    epochStart(epoch, epochs, batches) {
      if (!tty) return;
      bar = new cliProgress.SingleBar(
        {
          format: `epoch ${epoch}/${epochs} |{bar}| {value}/{total} loss {loss} acc {acc} {ips} img/s ETA {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(batches, 0, { loss: '-', acc: '-', ips: '-' });
    },
    batch(done, s) {
      bar?.update(done, { loss: s.loss.toFixed(4), acc: pct(s.accuracy), ips: s.imagesPerSecond.toFixed(0) });
    },
    epochEnd(row) {
      bar?.stop();
      bar = null;
      process.stderr.write(`${epochLine(row)}\n`);
    },
  };
}
