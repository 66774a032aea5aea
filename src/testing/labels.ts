// Labels put on every Docker resource the testing library creates, so that a run's resources
// can be found (and removed) by label alone, even by another process after a crash.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export const TESTING_LABEL = 'gangway.testing';
export const RUN_LABEL = 'gangway.testing.run';
/** Pid of the process that owns the run: a sweep removes runs whose owner is gone. */
export const PID_LABEL = 'gangway.testing.pid';
/** Machine of the owning pid: a pid only means something on the machine that recorded it. */
export const OWNER_HOST_LABEL = 'gangway.testing.owner-host';
export const DEFINITION_LABEL = 'gangway.testing.definition';
/** Images built from a Dockerfile carry this instead of a run id: they are a cache shared by runs. */
export const IMAGE_CACHE_LABEL = 'gangway.testing.image';

export const newRunId = (): string => randomBytes(4).toString('hex');

export interface RunOwner {
  runId: string;
  pid: number;
  ownerHost: string;
}

export const currentOwner = (runId: string): RunOwner => ({ runId, pid: process.pid, ownerHost: hostname() });

export function runLabels(owner: RunOwner, definitionName: string): Record<string, string> {
  return {
    [TESTING_LABEL]: '1',
    [RUN_LABEL]: owner.runId,
    [PID_LABEL]: String(owner.pid),
    [OWNER_HOST_LABEL]: owner.ownerHost,
    [DEFINITION_LABEL]: definitionName,
  };
}

/** Docker object name of a definition in a run: unique per run, readable in `docker ps`. */
export const resourceName = (runId: string, definitionName: string): string => `gwt-${runId}-${definitionName}`;

/** Engine API list filter selecting one run's resources. */
export const runFilter = (runId: string): { label: string[] } => ({ label: [`${RUN_LABEL}=${runId}`] });

/** Engine API list filter selecting every resource of the testing library. */
export const allRunsFilter = (): { label: string[] } => ({ label: [`${TESTING_LABEL}=1`] });

/** Shell lines that remove one run's resources by hand (printed when GANGWAY_KEEP keeps them). */
export function manualCleanupCommands(runId: string): string[] {
  const f = `--filter label=${RUN_LABEL}=${runId}`;
  return [
    `docker rm -f -v $(docker ps -aq ${f})`,
    `docker network rm $(docker network ls -q ${f})`,
    `docker volume rm $(docker volume ls -q ${f})`,
  ];
}
