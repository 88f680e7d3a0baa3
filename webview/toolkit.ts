// The only module that knows the UI component library (docs/decisions.md): @vscode/webview-ui-toolkit is
// deprecated upstream; swapping it for @vscode-elements/elements means changing this file only. Tag names and
// toolkit attributes (`appearance`) stay here; the rest of the webview asks for a button, a badge or a spinner.
import { provideVSCodeDesignSystem, vsCodeBadge, vsCodeButton, vsCodeDivider, vsCodeProgressRing } from '@vscode/webview-ui-toolkit';
import { h } from './dom';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeBadge(), vsCodeDivider(), vsCodeProgressRing());

type Attrs = Record<string, string | undefined>;

/** How a button looks: the main action, a secondary one, or a compact icon-like one. */
export type ButtonKind = 'primary' | 'secondary' | 'icon';

export function button(kind: ButtonKind, label: string, attrs: Attrs = {}): HTMLElement {
  return h('vscode-button', { ...attrs, appearance: kind }, label);
}

export function badge(text: string, attrs: Attrs = {}): HTMLElement {
  return h('vscode-badge', attrs, text);
}

/** An indeterminate progress spinner. */
export function progressRing(attrs: Attrs = {}): HTMLElement {
  return h('vscode-progress-ring', attrs);
}
