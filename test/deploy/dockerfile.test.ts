/**
 * deploy/docker/Dockerfile copies each workspace's package.json by name before `npm ci` (so the
 * dependency layers are rebuilt only when a manifest changes): a workspace added to package.json
 * must be added there too. The compose test (test/compose) builds and runs the image itself.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

describe('deploy/docker/Dockerfile', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'deploy', 'docker', 'Dockerfile'), 'utf8');

  it('copies the package.json of every workspace before npm ci', () => {
    const workspaces = ['packages', 'services'].flatMap((top) =>
      readdirSync(path.join(ROOT, top))
        .filter((d) => existsSync(path.join(ROOT, top, d, 'package.json')))
        .map((d) => `${top}/${d}`),
    );
    const copied = [...dockerfile.matchAll(/^COPY (\S+)\/package\.json \1\/$/gm)].map((m) => m[1]);
    expect(copied.sort()).toEqual(workspaces.sort());
  });

  it('runs as a non-root user, checks /readyz and runs node as PID 1', () => {
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*healthcheck\.js/m);
    expect(readFileSync(path.join(ROOT, 'deploy', 'docker', 'healthcheck.js'), 'utf8')).toMatch(/\/readyz/);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", /m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });
});
