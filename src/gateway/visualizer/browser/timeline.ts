/**
 * The timeline: the producer's last state changes, newest first, from `GET /api/transitions`
 * when the page opens and from the live stream after. A change's actor selects on click.
 */
import { getJSON, type Transition } from './api.js';
import { toneOf } from './catalog.js';
import { byId, h } from './dom.js';

/** Changes listed; older ones drop off the end. */
const SHOWN = 60;

export async function loadTimeline(): Promise<void> {
  const list = (await getJSON('/api/transitions')) as Transition[];
  for (const transition of list) addTransition(transition);
}

export function addTransition(transition: Transition): void {
  const list = byId('timeline');
  const time = new Date(transition.at);
  const item = h(
    'li',
    { 'data-actor-ref': transition.actor, 'data-tone': toneOf(transition.kind, transition.to) },
    h('time', { datetime: time.toISOString(), text: time.toLocaleTimeString() }),
    h('button', { class: 'name', type: 'button', 'data-select': transition.actor, text: transition.actor }),
    h('span', { class: 'from', text: transition.from }),
    h('span', { class: 'arrow', 'aria-hidden': 'true', text: '→' }),
    h('span', { class: 'to', text: transition.to }),
  );
  list.prepend(item);
  while (list.childElementCount > SHOWN) list.lastElementChild?.remove();
  byId('timeline-empty').hidden = true;
}
