/**
 * What the person agrees to before Podpath creates node-shell pods (PodNodeShell), and the
 * modal's words for it. No imports, so the extension's UI can show the modal without loading
 * the Kubernetes client.
 */

/** Label every node-shell pod carries: the run that made it. */
export const OWNER_LABEL = 'podpath.dev/owner';

/** What the person is asked to agree to before anything is created. */
export interface NodeShellConsentRequest {
  context: string;
  server: string;
  namespace: string;
  nodes: readonly string[];
  image: string;
  /** Value of the `podpath.dev/owner` label the pods carry. */
  owner: string;
  /** The pods' activeDeadlineSeconds. */
  deadlineSeconds: number;
}

/** The modal's text: what will be created, where and with which image. Pure. */
export function nodeShellConsentText(request: NodeShellConsentRequest): {
  message: string;
  detail: string;
  confirmLabel: string;
} {
  const n = request.nodes.length;
  const pods = n === 1 ? 'a privileged pod' : `${n} privileged pods`;
  return {
    message: `Create ${pods} in namespace ${request.namespace} of context ${request.context} to reach ${n === 1 ? 'node' : 'nodes'} ${request.nodes.join(', ')}?`,
    detail: [
      `Podpath reaches a node through a short-lived pod on it (hostNetwork, hostPID, privileged; it enters the node with nsenter, as \`kubectl debug node\` does): one per node, image ${request.image}, on ${request.server}.`,
      `The pods are labelled ${OWNER_LABEL}=${request.owner}, deleted when the trace ends, and stopped by the cluster after ${Math.round(request.deadlineSeconds / 60)} minutes at the latest.`,
      'The image and namespace are the settings podpath.nodeShell.image and podpath.nodeShell.namespace.',
    ].join('\n\n'),
    confirmLabel: n === 1 ? 'Create pod' : 'Create pods',
  };
}
