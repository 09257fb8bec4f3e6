// What both board screens share: calling the BOD010 transaction contract and
// small page helpers.
import { transact } from '/js/ack.js';

export const categories = ['Notice', 'Guide', 'Question', 'Free'];

// call runs service of contract EXA/BOD/BOD010 on behalf of screen.
export function call(screen, service, input, outputs = []) {
    return transact({ app: 'EXA', project: 'BOD', transaction: 'BOD010', screen, service, input, outputs });
}

// setup creates the table (and the first posts) on a fresh database.
export function setup(screen) {
    return call(screen, 'ZD01', {});
}

// status shows a message under a form; kind is '', 'ok' or 'error'.
export function status(el, message, kind = '') {
    el.textContent = message;
    el.className = 'status' + (kind ? ' ' + kind : '');
}

// ready tells scripts and tests that the page finished what it was doing.
export function ready(state = 'ready') {
    document.body.dataset.state = state;
}

export function fillCategories(select, withAll) {
    const options = withAll ? [['', 'All categories']] : [];
    for (const c of categories) options.push([c, c]);
    for (const [value, text] of options) {
        const o = document.createElement('option');
        o.value = value;
        o.textContent = text;
        select.append(o);
    }
}
