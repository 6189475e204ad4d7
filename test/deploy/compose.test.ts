/**
 * docker-compose.yml is accepted by Compose (`docker compose config`, or the standalone
 * `docker-compose config` where the plugin is missing), and runs every part the README names.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

function compose(): string[] {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  throw new Error('neither `docker compose` nor `docker-compose` is installed (Debian: apt-get install -y docker-compose); .ci/run installs it');
}

describe('docker-compose.yml', () => {
  it('is accepted by Compose and runs Kafka, Redis, the three services, Prometheus and Grafana', () => {
    const [cmd, ...args] = compose();
    const services = execFileSync(cmd, [...args, '-f', path.join(ROOT, 'docker-compose.yml'), 'config', '--services'], { cwd: ROOT, encoding: 'utf8' });
    expect(services.trim().split('\n').sort()).toEqual(['detect', 'grafana', 'ingest', 'kafka', 'parse', 'prometheus', 'redis']);
  });
});
