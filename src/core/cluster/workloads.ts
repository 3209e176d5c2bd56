/**
 * Reads the containers of a DaemonSet (init containers included) and the objects
 * detection cares about by kind and name, tolerating anything malformed.
 */
import {
  arr,
  obj,
  objectRef,
  refText,
  str,
  stringMap,
  type Json,
  type ObjectRef,
} from './objectFields';

export interface ContainerEnv {
  name: string;
  /** A literal `value`. */
  value: string | null;
  /** `valueFrom.configMapKeyRef`, resolved later against the ConfigMaps read. */
  configMapKeyRef: { name: string; key: string } | null;
}

export interface ContainerView {
  name: string;
  image: string;
  command: string[];
  args: string[];
  env: ContainerEnv[];
}

function strings(v: unknown): string[] {
  return arr(v)
    .map(str)
    .filter((s): s is string => s !== null);
}

function containerView(c: Json): ContainerView {
  return {
    name: str(c['name']) ?? '?',
    image: str(c['image']) ?? '',
    command: strings(c['command']),
    args: strings(c['args']),
    env: arr(c['env']).map((e) => {
      const entry = obj(e);
      const ref = obj(obj(entry['valueFrom'])['configMapKeyRef']);
      const refName = str(ref['name']);
      const refKey = str(ref['key']);
      return {
        name: str(entry['name']) ?? '',
        value: str(entry['value']),
        configMapKeyRef: refName && refKey ? { name: refName, key: refKey } : null,
      };
    }),
  };
}

export interface DaemonSetView {
  ref: ObjectRef;
  labels: Record<string, string>;
  containers: ContainerView[];
}

/** A DaemonSet's name, labels and every container of its pod template. */
export function daemonSetView(ds: unknown): DaemonSetView {
  const o = obj(ds);
  const podSpec = obj(obj(obj(o['spec'])['template'])['spec']);
  return {
    ref: objectRef(ds, 'DaemonSet'),
    labels: stringMap(obj(o['metadata'])['labels']),
    // Main containers first: the image shown in evidence should be the agent's, not an installer's.
    containers: [...arr(podSpec['containers']), ...arr(podSpec['initContainers'])]
      .map(obj)
      .map(containerView),
  };
}

/** The first container whose image mentions one of `fragments` (case-insensitive). */
export function containerWithImage(
  ds: DaemonSetView,
  fragments: readonly string[],
): ContainerView | undefined {
  return ds.containers.find((c) =>
    fragments.some((f) => c.image.toLowerCase().includes(f.toLowerCase())),
  );
}

export interface ConfigMapView {
  ref: ObjectRef;
  data: Record<string, string>;
}

/** ConfigMaps named `name`, in the order of `namespaces` first, then any other namespace. */
export function configMapsNamed(
  configMaps: readonly unknown[],
  name: string,
  namespaces: readonly (string | null)[] = [],
): ConfigMapView[] {
  const found = configMaps
    .map((cm) => ({ ref: objectRef(cm, 'ConfigMap'), data: stringMap(obj(cm)['data']) }))
    .filter((cm) => cm.ref.name === name);
  const rank = (ns: string | null): number => {
    const i = namespaces.indexOf(ns);
    return i === -1 ? namespaces.length : i;
  };
  return found.sort((a, b) => rank(a.ref.namespace) - rank(b.ref.namespace));
}

/** Env value of a container: the literal, or the ConfigMap key it points at when that was read. */
export function resolveEnv(
  env: ContainerEnv,
  configMaps: readonly unknown[],
  namespace: string | null,
): { value: string; from: string } | null {
  if (env.value !== null) return { value: env.value, from: 'value' };
  if (env.configMapKeyRef) {
    const cm = configMapsNamed(configMaps, env.configMapKeyRef.name, [namespace]).find(
      (c) => c.ref.namespace === namespace || namespace === null || c.ref.namespace === null,
    );
    const value = cm?.data[env.configMapKeyRef.key];
    if (cm && value !== undefined) {
      return { value, from: `${refText(cm.ref)} ${env.configMapKeyRef.key}` };
    }
  }
  return null;
}
