import { KafkaWarnings } from './transient';

function recorder() {
  const lines: string[] = [];
  const log = {
    debug: (m: string) => lines.push(`debug ${m}`),
    info: (m: string) => lines.push(`info ${m}`),
    warn: (m: string) => lines.push(`warn ${m}`),
    error: (m: string) => lines.push(`error ${m}`),
  };
  return { log, lines };
}

describe('KafkaWarnings', () => {
  it('keeps the errors of a settling cluster at debug while they pass', () => {
    const { log, lines } = recorder();
    let t = 0;
    const w = new KafkaWarnings(log, 30_000, () => t);
    w.warn('kafka: Response CreateTopics', { error: 'Topic creation errors' });
    for (; t < 5_000; t += 250) w.warn('kafka: Response GroupCoordinator', { error: 'The group coordinator is not available' });
    w.warn('kafka: Response ListOffsets(key: 2, version: 3)', { error: 'This server is not the leader for that topic-partition' });
    w.warn('kafka: Response Heartbeat(key: 12, version: 3)', { error: 'The coordinator is not aware of this member' });
    expect(lines.every((l) => l.startsWith('debug '))).toBe(true);
  });

  it('warns once they have lasted 30 s, saying so, and then at most every 30 s', () => {
    const { log, lines } = recorder();
    let t = 0;
    const w = new KafkaWarnings(log, 30_000, () => t);
    for (; t <= 65_000; t += 1_000) w.warn('kafka: Response GroupCoordinator', { error: 'The group coordinator is not available' });
    expect(lines.filter((l) => l.startsWith('warn '))).toEqual([
      'warn kafka: Response GroupCoordinator (still, after 30 s)',
      'warn kafka: Response GroupCoordinator (still, after 60 s)',
    ]);
  });

  it('starts counting again after a quiet spell', () => {
    const { log, lines } = recorder();
    let t = 0;
    const w = new KafkaWarnings(log, 30_000, () => t);
    w.warn('kafka: x', { error: 'The coordinator is loading and hence can\'t process requests for this group' });
    t = 40_000;
    w.warn('kafka: x', { error: 'The coordinator is loading and hence can\'t process requests for this group' });
    expect(lines).toEqual(['debug kafka: x', 'debug kafka: x']);
  });

  it('warns at once about anything else', () => {
    const { log, lines } = recorder();
    new KafkaWarnings(log).warn('kafka: Connection error', { error: 'SASL PLAIN authentication failed' });
    expect(lines).toEqual(['warn kafka: Connection error']);
  });
});
