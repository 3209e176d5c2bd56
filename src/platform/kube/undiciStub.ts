/**
 * Stands in for `undici` inside the extension bundle. @kubernetes/client-node imports
 * undici 8 at load time, and undici 8 needs Node 22 (`zlib.createZstdDecompress`), while
 * VS Code 1.90's extension host runs Node 18/20: loading it would crash activation.
 * Podpath only reads kubeconfig files for now and never talks to an API server, so the
 * HTTP agents are never constructed; if one ever is, it fails loudly instead of silently.
 */
class Unavailable {
  constructor() {
    throw new Error(
      'Talking to a Kubernetes API server is not available in this build of Podpath (only kubeconfig files are read).',
    );
  }
}

export { Unavailable as Agent, Unavailable as ProxyAgent };

export function fetch(): Promise<never> {
  return Promise.reject(new Unavailable());
}
