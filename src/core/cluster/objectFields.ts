/**
 * Defensive reads of Kubernetes API objects that arrive as `unknown`: a missing or
 * mistyped field reads as empty, so detection never throws on a malformed object.
 */

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` when it is an object, else an empty one. */
export function obj(v: unknown): Json {
  return isObject(v) ? v : {};
}

/** `v` when it is an array, else an empty one. */
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A string, or the text of a number or boolean (YAML and JSON disagree on quoting). */
export function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/** A finite number, or a string holding a plain integer. */
export function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) return Number(v);
  return null;
}

/** A boolean, or the strings `true` / `false` in any case. */
export function bool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false') return false;
  }
  return null;
}

/** Only the string values of a string map (labels, annotations, ConfigMap data). */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(obj(v))) if (typeof value === 'string') out[k] = value;
  return out;
}

export interface ObjectRef {
  kind: string;
  namespace: string | null;
  name: string;
}

/** kind, namespace and name of an object; name is `?` when missing. */
export function objectRef(o: unknown, fallbackKind: string): ObjectRef {
  const meta = obj(obj(o)['metadata']);
  return {
    kind: str(obj(o)['kind']) ?? fallbackKind,
    namespace: str(meta['namespace']),
    name: str(meta['name']) ?? '?',
  };
}

/** `ConfigMap kube-flannel/kube-flannel-cfg`, `Node kind-worker`: how evidence names an object. */
export function refText(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace === null ? '' : `${ref.namespace}/`}${ref.name}`;
}

/** Parses JSON text without throwing; null when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
