import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SpoolError, SpoolLockedError } from '../errors.js';

const LOCK_FILE = 'lock';

/**
 * One producer per spool directory: a `lock` file holding the owner's pid, created exclusively.
 * A lock left by a process that no longer runs (a crash, SIGKILL) is taken over; one held by a
 * live process, this one included, is refused with SpoolLockedError. Pids are local to a host:
 * the directory must not be shared between machines (NFS).
 */
export function lockSpool(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new SpoolError(`cannot lock spool directory ${dir}: ${(error as Error).message}`, error);
      }
    }
    const holder = readHolder(path);
    if (holder !== null && isAlive(holder)) throw new SpoolLockedError(dir, holder);
    // Stale (its process is gone) or unreadable (torn while being written): remove and retry.
    try {
      unlinkSync(path);
    } catch {
      // Another process removed it first; the next attempt decides.
    }
  }
  throw new SpoolError(`cannot lock spool directory ${dir}: the lock keeps changing hands`);
}

function readHolder(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * A process killed but not yet reaped by its parent (a zombie) still answers kill(pid, 0); on
 * Linux /proc says it is dead: the state after the command name is Z. Elsewhere, assume alive.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
