/**
 * Headless Chromium for test/render, two ways:
 *  - the machine's `chromium` (the first on PATH; Debian's `chromium` package puts it in /usr/bin,
 *    and test/support/setup.sh installs it on the local path);
 *  - on the Docker path (a Docker engine answers, or DUMPSTREAM_INFRA=docker) where the machine has
 *    none: a container of DUMPSTREAM_CHROMIUM_IMAGE (default dumpstream-test/chromium:bookworm),
 *    Debian's same package in an image built from deploy/docker/standins/chromium/Dockerfile. Docker
 *    Hub has no official Chromium image, so when the engine does not hold the image the test builds
 *    it (FROM debian:bookworm-slim; a few minutes, once). Where no registry answers (CI),
 *    test/compose/build-images.sh builds it on its debootstrapped base and
 *    test/support/integration-on-docker.sh names it.
 *
 * A PATH without `chromium` takes the container route on the Docker path even where the machine has
 * one (integration-on-docker.sh --docker-only hides it so).
 *
 * The container runs Chromium with no network, as this process's uid, with the work directory
 * bind-mounted at the same path, so file:// URLs and output paths mean the same inside and out.
 */
import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { chooseInfraSync } from '../support/infra';

/** Where Debian installs the machine's Chromium (for messages). */
export const LOCAL_CHROMIUM = '/usr/bin/chromium';
const DOCKERFILE_DIR = path.join(__dirname, '..', '..', 'deploy', 'docker', 'standins', 'chromium');

/** One way to run headless Chromium over files under one directory. */
export interface Chromium {
  /** Says which Chromium this is (for messages). */
  readonly label: string;
  /** Makes it ready (the container route: builds the image when the engine lacks it). */
  prepare(): Promise<void>;
  /** Runs `chromium ...args` and resolves with its stdout; rejects with its stderr's end on failure. */
  run(args: string[]): Promise<string>;
  /** Removes whatever is left running (containers of a run that timed out). */
  cleanup(): Promise<void>;
}

/**
 * The Chromium for this machine: the local binary when there is one, else the container route on
 * the Docker path, else undefined (the caller says what to install).
 * @param workDir every file Chromium reads or writes lies under it (mounted into the container).
 */
export function findChromium(workDir: string): Chromium | undefined {
  const local = onPath('chromium');
  if (local) return localChromium(local);
  if (chooseInfraSync() === 'docker') return containerChromium(workDir);
  return undefined;
}

/** The image of the container route. */
export function chromiumImage(): string {
  return process.env.DUMPSTREAM_CHROMIUM_IMAGE?.trim() || 'dumpstream-test/chromium:bookworm';
}

function exec(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      // (err.message holds the whole stderr too: its first line, then stderr's end once)
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message.split('\n')[0]}\n${String(stderr).slice(-2000)}`));
      else resolve(String(stdout));
    });
  });
}

/** The first executable `name` on PATH, or undefined. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, name), fsConstants.X_OK);
      return path.join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

function localChromium(binary: string): Chromium {
  return {
    label: binary,
    prepare: async () => {},
    run: (args) => exec(binary, args, 45_000),
    cleanup: async () => {},
  };
}

function containerChromium(workDir: string): Chromium {
  const image = chromiumImage();
  const names: string[] = [];
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  return {
    label: `${image} (a container: the Docker path, no ${LOCAL_CHROMIUM} here)`,
    async prepare() {
      process.stderr.write(`test/render: no chromium on PATH; Chromium runs in containers of ${image} (the Docker path)\n`);
      if (spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore', timeout: 30_000 }).status === 0) return;
      process.stderr.write(`test/render: building ${image} from ${DOCKERFILE_DIR} (Debian's chromium package; once)\n`);
      await exec('docker', ['build', '-q', '-t', image, DOCKERFILE_DIR], 15 * 60_000);
    },
    run(args) {
      const name = `dumpstream-render-${process.pid}-${names.length + 1}`;
      names.push(name);
      const docker = ['run', '--rm', '--name', name, '--network', 'none', '--shm-size', '256m', '-e', 'HOME=/tmp', '-v', `${workDir}:${workDir}`];
      if (uid !== undefined && gid !== undefined) docker.push('--user', `${uid}:${gid}`);
      // a container's start adds a second or two to each run, more on a busy machine
      return exec('docker', [...docker, image, ...args], 90_000);
    },
    async cleanup() {
      if (names.length) spawnSync('docker', ['rm', '-f', ...names], { stdio: 'ignore', timeout: 30_000 });
    },
  };
}
