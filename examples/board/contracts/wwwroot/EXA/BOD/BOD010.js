// Screen BOD010: the list of posts, searched by category and keyword.
import { call, setup, status, ready, fillCategories } from './board.js';

const screen = 'BOD010';
const form = document.getElementById('search-form');
const category = document.getElementById('category');
const keyword = document.getElementById('keyword');
const rows = document.querySelector('#posts tbody');
const statusLine = document.getElementById('status');
const saved = new URLSearchParams(location.search).get('saved');

function cell(text, className) {
    const td = document.createElement('td');
    if (className) td.className = className;
    td.textContent = text ?? '';
    return td;
}

function render(posts) {
    rows.replaceChildren();
    if (posts.length === 0) {
        const tr = document.createElement('tr');
        const td = cell('No post matches.', 'empty');
        td.colSpan = 5;
        tr.append(td);
        rows.append(tr);
        return;
    }
    for (const post of posts) {
        const tr = document.createElement('tr');
        tr.dataset.postId = post.PostID;
        if (String(post.PostID) === saved) tr.className = 'highlight';
        const badge = document.createElement('span');
        badge.className = 'badge ' + post.Category;
        badge.textContent = post.Category;
        const categoryCell = cell('');
        categoryCell.append(badge);
        const link = document.createElement('a');
        link.href = 'BOD011.html?id=' + encodeURIComponent(post.PostID);
        link.textContent = post.Title;
        const titleCell = cell('', 'title');
        titleCell.append(link);
        tr.append(cell(post.PostID, 'num'), categoryCell, titleCell, cell(post.Author, 'author'), cell(post.CreatedAt, 'date'));
        rows.append(tr);
    }
}

async function search() {
    ready('loading');
    status(statusLine, 'Searching…');
    try {
        const [posts] = await call(screen, 'LD01', { Category: category.value, Keyword: keyword.value.trim() }, ['Grid']);
        render(posts ?? []);
        status(statusLine, `${posts.length} post${posts.length === 1 ? '' : 's'}`, saved ? 'ok' : '');
        ready();
    } catch (err) {
        status(statusLine, err.message, 'error');
        ready('error');
    }
}

form.addEventListener('submit', (event) => {
    event.preventDefault();
    search();
});

fillCategories(category, true);
try {
    await setup(screen);
    await search();
} catch (err) {
    status(statusLine, err.message, 'error');
    ready('error');
}
