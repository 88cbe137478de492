/**
 * The visualizer's style sheet (`GET /assets/app.css`), hand-written CSS kept as a TypeScript
 * string so that `tsc` carries it into dist/ (no copy step). Light and dark schemes.
 */
export const APP_CSS = String.raw`:root {
  --bg: #f4f6f9;
  --panel: #ffffff;
  --panel-2: #f8fafc;
  --text: #172033;
  --muted: #5d6779;
  --border: #e1e6ee;
  --border-strong: #c9d1dd;
  --accent: #4f46e5;
  --accent-soft: #eef2ff;
  --on-accent: #ffffff;
  --focus: #6366f1;
  --ok: #15803d;
  --ok-bg: #dcfce7;
  --busy: #1d4ed8;
  --busy-bg: #dbeafe;
  --warn: #b45309;
  --warn-bg: #fef3c7;
  --bad: #b91c1c;
  --bad-bg: #fee2e2;
  --off: #4b5563;
  --off-bg: #e5e7eb;
  --radius: 10px;
  --shadow: 0 1px 2px rgba(16, 24, 40, 0.06), 0 1px 3px rgba(16, 24, 40, 0.08);
  --mono: ui-monospace, SFMono-Regular, 'SF Mono', Menlo, Consolas, 'Liberation Mono', monospace;
  color-scheme: light dark;
}

@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117;
    --panel: #151b24;
    --panel-2: #1a2230;
    --text: #e6ebf2;
    --muted: #9aa5b6;
    --border: #263041;
    --border-strong: #344156;
    --accent: #818cf8;
    --accent-soft: #1e2240;
    --on-accent: #0b1020;
    --focus: #a5b4fc;
    --ok: #4ade80;
    --ok-bg: #12331f;
    --busy: #93c5fd;
    --busy-bg: #172a4a;
    --warn: #fbbf24;
    --warn-bg: #3a2a0c;
    --bad: #f87171;
    --bad-bg: #3d1616;
    --off: #9ca3af;
    --off-bg: #262c36;
    --shadow: none;
  }
}

* {
  box-sizing: border-box;
}

html {
  background: var(--bg);
  color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
}

body {
  margin: 0;
  min-height: 100vh;
}

button,
input {
  font: inherit;
  color: inherit;
}

:focus-visible {
  outline: 2px solid var(--focus);
  outline-offset: 2px;
}

.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip: rect(0 0 0 0);
  white-space: nowrap;
}

.skip {
  position: absolute;
  left: 8px;
  top: -40px;
  padding: 6px 10px;
  background: var(--panel);
  border-radius: 6px;
  z-index: 10;
}

.skip:focus {
  top: 8px;
}

[hidden] {
  display: none !important;
}

/* ---------------------------------------------------------------- header */

.top {
  position: sticky;
  top: 0;
  z-index: 5;
  display: flex;
  align-items: center;
  gap: 20px;
  padding: 10px 24px;
  background: var(--panel);
  border-bottom: 1px solid var(--border);
  box-shadow: var(--shadow);
}

.top h1 {
  margin: 0;
  font-size: 18px;
  font-weight: 700;
  letter-spacing: -0.01em;
  white-space: nowrap;
}

.top .logo {
  color: var(--accent);
}

.top .sub {
  color: var(--muted);
  font-weight: 500;
}

.totals {
  margin: 0;
  flex: 1;
  color: var(--muted);
  font-variant-numeric: tabular-nums;
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
}

.conn {
  margin: 0;
  display: inline-flex;
  align-items: center;
  gap: 8px;
  padding: 3px 10px;
  border-radius: 999px;
  background: var(--panel-2);
  border: 1px solid var(--border);
  font-size: 13px;
  white-space: nowrap;
}

.conn .dot {
  width: 8px;
  height: 8px;
  border-radius: 50%;
  background: var(--busy);
}

.conn[data-status='live'] .dot {
  background: var(--ok);
  box-shadow: 0 0 0 3px var(--ok-bg);
}

.conn[data-status='polling'] .dot {
  background: var(--warn);
}

.conn[data-status='down'] .dot {
  background: var(--bad);
}

/* ---------------------------------------------------------------- layout */

.layout {
  display: grid;
  grid-template-columns: minmax(0, 1.25fr) minmax(420px, 1fr);
  gap: 20px;
  padding: 20px 24px 32px;
  align-items: start;
}

@media (max-width: 1050px) {
  .layout {
    grid-template-columns: minmax(0, 1fr);
  }
}

.panel {
  background: var(--panel);
  border: 1px solid var(--border);
  border-radius: 14px;
  box-shadow: var(--shadow);
  min-width: 0;
}

.panel-head {
  display: flex;
  align-items: center;
  gap: 16px;
  padding: 14px 18px;
  border-bottom: 1px solid var(--border);
}

.panel-head h2 {
  margin: 0;
  font-size: 15px;
  font-weight: 650;
}

.detail-panel {
  position: sticky;
  top: 72px;
  max-height: calc(100vh - 92px);
  overflow: auto;
}

.empty {
  color: var(--muted);
  margin: 12px 0;
}

/* ---------------------------------------------------------------- filter */

.filter {
  margin-left: auto;
  display: flex;
  align-items: center;
  gap: 8px;
}

.filter label {
  color: var(--muted);
  font-size: 13px;
}

.filter input {
  width: 260px;
  padding: 6px 10px;
  border: 1px solid var(--border-strong);
  border-radius: 8px;
  background: var(--panel-2);
}

.filter-count {
  color: var(--muted);
  font-size: 12px;
  min-width: 5em;
  font-variant-numeric: tabular-nums;
}

/* ---------------------------------------------------------------- tree */

.tree {
  padding: 16px 18px 20px;
}

.tree:focus {
  outline: none;
}

.children {
  list-style: none;
  margin: 0 0 0 14px;
  padding: 6px 0 0 20px;
  border-left: 2px solid var(--border);
}

.branch {
  position: relative;
  margin-top: 14px;
}

.branch::before {
  content: '';
  position: absolute;
  left: -20px;
  top: 12px;
  width: 14px;
  border-top: 2px solid var(--border);
}

.group-title {
  margin: 0 0 8px;
  font-size: 12px;
  font-weight: 650;
  text-transform: uppercase;
  letter-spacing: 0.06em;
  color: var(--muted);
}

.group-title .count {
  display: inline-block;
  min-width: 1.6em;
  padding: 0 6px;
  margin-left: 4px;
  border-radius: 999px;
  background: var(--panel-2);
  border: 1px solid var(--border);
  text-align: center;
  font-variant-numeric: tabular-nums;
}

.node {
  border: 1px solid var(--border);
  border-radius: var(--radius);
  background: var(--panel);
  padding: 8px 12px;
  transition: border-color 0.15s;
}

.node.selected,
tr.selected {
  border-color: var(--accent);
  box-shadow: 0 0 0 1px var(--accent);
}

.node.unmatched {
  opacity: 0.5;
}

.node-root {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 6px 16px;
  background: var(--accent-soft);
  border-color: transparent;
}

.node-head {
  display: flex;
  align-items: center;
  gap: 8px;
  min-width: 0;
}

.cards {
  list-style: none;
  margin: 0;
  padding: 0;
  display: grid;
  grid-template-columns: repeat(auto-fill, minmax(210px, 1fr));
  gap: 10px;
}

.card .stats {
  margin-top: 6px;
}

button.name {
  border: 0;
  background: none;
  padding: 2px 4px;
  margin: -2px -4px;
  border-radius: 6px;
  font-family: var(--mono);
  font-size: 13px;
  font-weight: 600;
  cursor: pointer;
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
  min-width: 0;
}

button.name:hover {
  color: var(--accent);
  background: var(--accent-soft);
}

button.name[aria-pressed='true'] {
  color: var(--accent);
}

.badge {
  display: inline-flex;
  align-items: center;
  gap: 5px;
  padding: 1px 8px 1px 7px;
  border-radius: 999px;
  font-size: 12px;
  font-weight: 600;
  white-space: nowrap;
  color: var(--busy);
  background: var(--busy-bg);
}

.badge::before {
  content: '';
  width: 6px;
  height: 6px;
  border-radius: 50%;
  background: currentColor;
}

[data-tone='ok'] {
  color: var(--ok);
  background: var(--ok-bg);
}

[data-tone='busy'] {
  color: var(--busy);
  background: var(--busy-bg);
}

[data-tone='warn'] {
  color: var(--warn);
  background: var(--warn-bg);
}

[data-tone='bad'] {
  color: var(--bad);
  background: var(--bad-bg);
}

[data-tone='off'] {
  color: var(--off);
  background: var(--off-bg);
}

.stats {
  display: flex;
  flex-wrap: wrap;
  gap: 2px 14px;
  margin: 0;
  font-size: 12px;
}

.stats > div {
  display: flex;
  gap: 5px;
  align-items: baseline;
}

.stats dt {
  color: var(--muted);
}

.stats dd {
  margin: 0;
  font-weight: 600;
  font-variant-numeric: tabular-nums;
}

.error {
  margin: 6px 0 0;
  font-size: 12px;
  color: var(--bad);
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
}

/* ---------------------------------------------------------------- topics */

.topics {
  display: grid;
  grid-template-columns: minmax(0, 1fr);
  gap: 12px;
}

.branch,
.topic {
  min-width: 0;
}

.topic {
  border: 1px solid var(--border);
  border-radius: 12px;
  background: var(--panel-2);
}

.topic-head {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 6px 16px;
  border: 0;
  border-radius: 12px 12px 0 0;
  background: transparent;
  padding: 10px 12px;
}

.topic-head .stats {
  margin-left: auto;
}

.topic-head .error {
  flex-basis: 100%;
  margin: 0;
}

button.toggle {
  display: inline-grid;
  place-items: center;
  width: 24px;
  height: 24px;
  border: 1px solid var(--border-strong);
  border-radius: 6px;
  background: var(--panel);
  cursor: pointer;
  padding: 0;
}

.chevron {
  width: 7px;
  height: 7px;
  border-right: 2px solid var(--muted);
  border-bottom: 2px solid var(--muted);
  transform: translateY(-2px) rotate(45deg);
  transition: transform 0.15s;
}

button.toggle[aria-expanded='false'] .chevron {
  transform: translateX(-1px) rotate(-45deg);
}

.summary {
  display: inline-flex;
  flex-wrap: wrap;
  gap: 4px;
}

.chip {
  padding: 0 7px;
  border-radius: 6px;
  font-size: 12px;
  font-weight: 600;
  font-variant-numeric: tabular-nums;
  white-space: nowrap;
}

.topic-body {
  border-top: 1px solid var(--border);
  padding: 10px 12px 12px;
  background: var(--panel);
  border-radius: 0 0 12px 12px;
}

.settings {
  display: grid;
  gap: 4px;
  margin-bottom: 10px;
}

.fields {
  display: flex;
  flex-wrap: wrap;
  align-items: end;
  gap: 10px;
}

.field {
  display: grid;
  gap: 2px;
  font-size: 12px;
  color: var(--muted);
}

.field input {
  width: 120px;
  padding: 5px 8px;
  border: 1px solid var(--border-strong);
  border-radius: 7px;
  background: var(--panel);
  font-variant-numeric: tabular-nums;
}

button.apply {
  padding: 5px 14px;
  border: 1px solid var(--accent);
  border-radius: 7px;
  background: var(--accent);
  color: var(--on-accent);
  font-weight: 600;
  cursor: pointer;
}

button.apply:hover {
  filter: brightness(1.08);
}

button.apply:disabled {
  opacity: 0.6;
  cursor: progress;
}

.other-settings {
  margin: 0;
  font-size: 12px;
  color: var(--muted);
}

.status {
  font-size: 12px;
  min-height: 1em;
}

.status[data-kind='error'] {
  color: var(--bad);
  font-weight: 600;
}

.status[data-kind='ok'] {
  color: var(--ok);
}

.status[data-kind='info'] {
  color: var(--muted);
}

.table-wrap {
  max-height: 460px;
  overflow: auto;
  border: 1px solid var(--border);
  border-radius: 8px;
}

table.partitions {
  width: 100%;
  border-collapse: collapse;
  font-size: 12.5px;
  font-variant-numeric: tabular-nums;
}

.partitions th,
.partitions td {
  padding: 5px 8px;
  text-align: left;
  border-bottom: 1px solid var(--border);
  white-space: nowrap;
}

.partitions thead th {
  position: sticky;
  top: 0;
  z-index: 1;
  background: var(--panel-2);
  color: var(--muted);
  font-weight: 600;
  font-size: 12px;
}

.partitions tbody tr:last-child th,
.partitions tbody tr:last-child td {
  border-bottom: 0;
}

.partitions tbody tr:hover {
  background: var(--panel-2);
}

.partitions tr.selected {
  background: var(--accent-soft);
  box-shadow: inset 3px 0 0 var(--accent);
}

.partitions .num {
  text-align: right;
}

.error-cell {
  color: var(--bad);
  max-width: 240px;
  overflow: hidden;
  text-overflow: ellipsis;
}

/* An error from before the actor recovered: kept, but not alarming. */
[data-state='ready'] > .error,
[data-state='ready'] > .error-cell,
[data-state='active'] > .error,
[data-state='running'] > .error,
[data-state='idle'] > .error {
  color: var(--muted);
}

/* ---------------------------------------------------------------- detail */

.detail {
  padding: 14px 18px 20px;
}

.detail-head {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 8px 12px;
}

.detail-name {
  margin: 0;
  font-family: var(--mono);
  font-size: 15px;
}

.detail-error.past {
  background: var(--panel-2);
  color: var(--muted);
  border: 1px solid var(--border);
}

.detail-head .kind {
  color: var(--muted);
  font-size: 13px;
}

.detail-error {
  margin: 10px 0 0;
  padding: 8px 10px;
  border-radius: 8px;
  background: var(--bad-bg);
  color: var(--bad);
  font-size: 13px;
}

.diagram {
  margin: 14px 0 0;
  padding: 12px;
  border: 1px solid var(--border);
  border-radius: 12px;
  background: var(--panel-2);
}

.diagram-scroll {
  overflow-x: auto;
  text-align: center;
}

.diagram figcaption {
  margin-top: 8px;
  font-size: 11.5px;
  color: var(--muted);
}

svg.machine {
  max-width: 100%;
  height: auto;
  font-family: system-ui, -apple-system, 'Segoe UI', sans-serif;
}

svg.machine .box {
  fill: var(--panel);
  stroke: var(--border-strong);
  stroke-width: 1.5;
}

svg.machine .inner {
  fill: none;
  stroke: var(--border-strong);
}

svg.machine .state-name {
  fill: var(--text);
  font-size: 13px;
  font-weight: 600;
}

svg.machine .state-sub {
  fill: var(--muted);
  font-size: 10.5px;
}

svg.machine .state.active .box {
  fill: var(--accent);
  stroke: var(--accent);
  filter: drop-shadow(0 2px 6px rgba(79, 70, 229, 0.35));
}

svg.machine .state.active .inner {
  stroke: var(--on-accent);
}

svg.machine .state.active .state-name,
svg.machine .state.active .state-sub {
  fill: var(--on-accent);
}

svg.machine .initial {
  fill: var(--text);
}

svg.machine .edge-line {
  fill: none;
  stroke: var(--border-strong);
  stroke-width: 1.4;
}

svg.machine .edge.global .edge-line {
  stroke-dasharray: 5 4;
}

svg.machine .edge.out .edge-line {
  stroke: var(--accent);
  stroke-width: 2;
}

svg.machine .arrow-plain {
  fill: var(--border-strong);
}

svg.machine .arrow-out {
  fill: var(--accent);
}

svg.machine .edge-label rect {
  fill: var(--panel-2);
  opacity: 0.92;
}

svg.machine .edge-label text {
  fill: var(--muted);
  font-size: 11px;
}

svg.machine .edge-label.out text {
  fill: var(--accent);
  font-weight: 600;
}

.detail h4 {
  margin: 18px 0 6px;
  font-size: 12px;
  text-transform: uppercase;
  letter-spacing: 0.06em;
  color: var(--muted);
}

.detail h4 em {
  font-style: normal;
  color: var(--text);
  text-transform: none;
  letter-spacing: 0;
  font-family: var(--mono);
}

.transitions {
  list-style: none;
  margin: 0;
  padding: 0;
  display: grid;
  gap: 3px;
  font-size: 12.5px;
}

.transitions code {
  font-family: var(--mono);
  font-size: 12px;
  padding: 1px 6px;
  border-radius: 5px;
  background: var(--accent-soft);
  color: var(--accent);
}

.transitions .target {
  color: var(--text);
}

.transitions .any,
.transitions .none {
  color: var(--muted);
}

.kv {
  margin: 0;
  display: grid;
  grid-template-columns: max-content minmax(0, 1fr);
  gap: 4px 14px;
  font-size: 12.5px;
}

.kv > div {
  display: contents;
}

.kv dt {
  color: var(--muted);
}

.kv dd {
  margin: 0;
  font-variant-numeric: tabular-nums;
  overflow-wrap: anywhere;
}
`;
