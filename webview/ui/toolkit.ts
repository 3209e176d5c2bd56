/**
 * The only module that touches `@vscode/webview-ui-toolkit`. The toolkit is
 * deprecated upstream; everything else in webview/ goes through the small API
 * below, so moving to `@vscode-elements/elements` means rewriting this folder only.
 */
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeProgressRing,
} from '@vscode/webview-ui-toolkit';

let registered = false;

/** Defines the custom elements this panel uses; safe to call more than once. */
export function registerUiComponents(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeProgressRing());
}

export interface ButtonOptions {
  appearance?: 'primary' | 'secondary';
  title?: string;
}

/** A themed button; `label` is set as text. */
export function createButton(
  label: string,
  onClick: () => void,
  options: ButtonOptions = {},
): HTMLElement {
  const button = document.createElement('vscode-button');
  button.textContent = label;
  button.setAttribute('appearance', options.appearance ?? 'secondary');
  if (options.title) button.setAttribute('title', options.title);
  button.addEventListener('click', () => {
    if (!button.hasAttribute('disabled')) onClick();
  });
  return button;
}

export function setButtonDisabled(button: HTMLElement, disabled: boolean): void {
  button.toggleAttribute('disabled', disabled);
}

/** A spinner with an accessible label, for "waiting for the host". */
export function createProgressRing(label: string): HTMLElement {
  const ring = document.createElement('vscode-progress-ring');
  ring.setAttribute('aria-label', label);
  return ring;
}
