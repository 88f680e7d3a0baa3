// The only module that imports the UI component library (docs/decisions.md): @vscode/webview-ui-toolkit is
// deprecated upstream; swapping it for @vscode-elements/elements means changing this file (and the tag names
// in TAGS) only.
import { provideVSCodeDesignSystem, vsCodeBadge, vsCodeButton, vsCodeDivider, vsCodeProgressRing } from '@vscode/webview-ui-toolkit';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeBadge(), vsCodeDivider(), vsCodeProgressRing());

/** Tag names of the components the rest of the webview uses. */
export const TAGS = {
  button: 'vscode-button',
  badge: 'vscode-badge',
  divider: 'vscode-divider',
  progressRing: 'vscode-progress-ring',
} as const;
