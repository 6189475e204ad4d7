// The fault scenarios run the services as child processes from the compiled packages (dist/):
// build them first (`tsc -b`, a no-op when nothing changed), so a run never tests stale code.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export default function globalSetup(): void {
  const root = path.resolve(__dirname, '..', '..', '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], { cwd: root, stdio: 'inherit' });
}
