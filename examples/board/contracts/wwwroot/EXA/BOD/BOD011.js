// Screen BOD011: one post. Without ?id= it writes a new post (ID01);
// with it, it loads (GD01), changes (UD01) or deletes (DD01) that post.
import { call, setup, status, ready, fillCategories } from './board.js';

const screen = 'BOD011';
const form = document.getElementById('post-form');
const fields = {
    Category: document.getElementById('post-category'),
    Title: document.getElementById('title'),
    Author: document.getElementById('author'),
    Content: document.getElementById('content'),
};
const heading = document.getElementById('heading');
const meta = document.getElementById('meta');
const message = document.getElementById('message');
const saveButton = document.getElementById('save');
const deleteButton = document.getElementById('delete');
const id = new URLSearchParams(location.search).get('id');

function values() {
    const v = {};
    for (const [name, el] of Object.entries(fields)) v[name] = el.value.trim();
    return v;
}

function busy(on) {
    saveButton.disabled = on;
    deleteButton.disabled = on;
    ready(on ? 'loading' : 'ready');
}

async function load() {
    const [post] = await call(screen, 'GD01', { PostID: Number(id) }, ['Form']);
    if (!post || post.PostID === undefined) {
        heading.textContent = 'Post not found';
        status(message, `There is no post #${id}.`, 'error');
        form.querySelectorAll('input, select, textarea, button').forEach((el) => { el.disabled = true; });
        return;
    }
    heading.textContent = `Post #${post.PostID}`;
    document.title = `${post.Title} · ack board`;
    for (const [name, el] of Object.entries(fields)) el.value = post[name] ?? '';
    meta.textContent = `Written ${post.CreatedAt}` + (post.UpdatedAt ? ` · changed ${post.UpdatedAt}` : '');
    deleteButton.hidden = false;
}

async function save() {
    busy(true);
    status(message, 'Saving…');
    try {
        let postID = id;
        if (id) {
            const [changed] = await call(screen, 'UD01', { PostID: Number(id), ...values() }, ['Form']);
            if (!changed || changed.PostID === undefined) throw new Error(`Post #${id} no longer exists.`);
        } else {
            const [added] = await call(screen, 'ID01', values(), ['Form']);
            postID = added.PostID;
        }
        location.assign('BOD010.html?saved=' + encodeURIComponent(postID));
    } catch (err) {
        status(message, err.message, 'error');
        busy(false);
    }
}

async function remove() {
    if (!confirm('Delete this post?')) return;
    busy(true);
    try {
        await call(screen, 'DD01', { PostID: Number(id) }, ['Form']);
        location.assign('BOD010.html');
    } catch (err) {
        status(message, err.message, 'error');
        busy(false);
    }
}

form.addEventListener('submit', (event) => {
    event.preventDefault();
    save();
});
deleteButton.addEventListener('click', remove);

fillCategories(fields.Category, false);
try {
    await setup(screen);
    if (id) await load();
    ready();
} catch (err) {
    status(message, err.message, 'error');
    ready('error');
}
