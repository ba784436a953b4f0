// Where each workload kind keeps its pod template.
import { objectAt, type JsonObject } from './json.js';


/** The pod (or pod template) of a workload object: {metadata, spec}. */
export function podTemplateOf(kind: string, obj: unknown): JsonObject | undefined {
  switch (kind) {
    case 'Pod':
      return objectAt(obj);
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return objectAt(obj, 'spec', 'template');
    case 'CronJob':
      return objectAt(obj, 'spec', 'jobTemplate', 'spec', 'template');
    default:
      return undefined;
  }
}
