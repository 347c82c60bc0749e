// The BookingBug events page: plain JavaScript over the v1 API (event groups, events,
// basket, questions, client details, checkout). Configuration comes from
// window.BOOKING_EVENTS, else the query string: company, app_id, app_key (the company's
// public key, which is publishable) and api (the API's base URL; default: where this page is).
'use strict';
(function () {
  const params = new URLSearchParams(location.search);
  const given = window.BOOKING_EVENTS || {};
  const config = {
    company: given.company || params.get('company'),
    appId: given.app_id || params.get('app_id'),
    appKey: given.app_key || params.get('app_key'),
    api: (given.api || params.get('api') || new URL('.', location.href).href).replace(/\/+$/, ''),
  };
  const storageKey = `basket-token-${config.company}`;
  let basketToken = sessionStorage.getItem(storageKey);
  let basket = null;
  let activeGroup = null;
  const $ = (id) => document.getElementById(id);

  class ApiError extends Error {
    constructor(status, body) {
      const error = body && body.error;
      // BookingBug's own 409 for a full event is {"message": "NoSpaceLeftError", "error": "No Space Left"}.
      const text = typeof error === 'string' ? error : (error && error.message) || (body && body.message);
      super(text || `The booking service answered ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  // path is under /api/v1/<company>; a path starting with /api/ is taken as it is.
  async function call(method, path, body) {
    const headers = { 'App-Id': config.appId, 'App-Key': config.appKey };
    if (basketToken) headers['Auth-Token'] = basketToken;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const url = path.startsWith('/api/') ? config.api + path : `${config.api}/api/v1/${config.company}${path}`;
    const response = await fetch(url, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, data);
    return { data, headers: response.headers };
  }

  function say(text, kind) {
    const box = $('message');
    box.textContent = text;
    box.className = `notice ${kind || 'error'}`;
    box.hidden = !text;
  }

  const money = (minor) => (minor / 100).toLocaleString(undefined, { style: 'currency', currency: 'GBP' });
  const when = (iso) => new Date(iso).toLocaleString(undefined, {
    weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
  });
  const element = (tag, attributes, ...children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === 'text') node.textContent = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  };

  function isoDate(date) { return date.toISOString().slice(0, 10); }

  async function loadGroups() {
    const { data } = await call('GET', '/event_groups?per_page=100');
    const nav = $('groups');
    nav.replaceChildren();
    const groups = [{ id: null, name: 'All' }, ...data._embedded.event_groups];
    for (const group of groups) {
      nav.append(element('button', {
        type: 'button', 'aria-pressed': String(group.id === activeGroup), 'data-group': group.id ?? '',
        text: group.name,
        onclick: () => { activeGroup = group.id; loadGroups().then(loadEvents).catch(fail); },
      }));
    }
  }

  async function loadEvents() {
    const today = new Date();
    const until = new Date(today.getTime() + 60 * 86400000);
    let query = `/events?start_date=${isoDate(today)}&end_date=${isoDate(until)}&per_page=100`;
    if (activeGroup) query += `&event_group_id=${activeGroup}`;
    const { data } = await call('GET', query);
    const list = $('events');
    list.replaceChildren();
    const events = data._embedded.events;
    if (!events.length) list.append(element('p', { class: 'muted', text: 'No events in the next two months.' }));
    for (const event of events) list.append(eventCard(event));
  }

  function eventCard(event) {
    const left = event.spaces_left;
    const quantity = element('select', { class: 'qty', 'aria-label': `Spaces for ${event.name}` });
    for (let n = 1; n <= Math.min(left, 10); n += 1) quantity.append(element('option', { value: n, text: String(n) }));
    const add = element('button', {
      type: 'button', disabled: !event.bookable || left < 1, text: event.bookable && left > 0 ? 'Add to basket' : 'Full',
      onclick: () => addToBasket(event, Number(quantity.value)),
    });
    return element('article', { class: 'card event', 'data-event': event.id },
      element('div', { class: 'row' },
        element('strong', { text: event.name }),
        element('span', { text: money(event.price) })),
      element('div', { class: 'muted', text: `${when(event.datetime)} · ${event.duration} min` }),
      element('div', { class: 'row' },
        element('span', { class: 'spaces', text: left === 1 ? '1 space left' : `${left} spaces left` }),
        element('span', { class: 'row' }, event.bookable && left > 0 ? quantity : null, add)));
  }

  async function addToBasket(event, spaces) {
    say('');
    try {
      const { data, headers } = await call('POST', '/basket/add_item', { event_id: event.id, num_book: spaces });
      const token = headers.get('Auth-Token');
      if (token) { basketToken = token; sessionStorage.setItem(storageKey, token); }
      showBasket(data);
      say(`Added ${spaces === 1 ? '1 space' : `${spaces} spaces`} of ${event.name} to your basket.`, 'ok');
    } catch (error) {
      say(error.status === 409 ? `Sorry, ${event.name} has no space left for ${spaces}.` : error.message);
    }
    await loadEvents().catch(fail);
  }

  function showBasket(data) {
    basket = data;
    const items = (data && data._embedded.items.filter((item) => item.status === 'held')) || [];
    $('basket').hidden = items.length === 0 || data.status !== 'open';
    const list = $('basket-items');
    list.replaceChildren();
    for (const item of items) {
      list.append(element('div', { class: 'card row basket-item' },
        element('span', { text: `${item.num_book} × ${item.name}, ${when(item.datetime)}` }),
        element('span', { class: 'row' },
          element('span', { text: money(item.total_price) }),
          element('button', { type: 'button', class: 'secondary', text: 'Remove', onclick: () => removeItem(item) }))));
    }
    $('basket-total').textContent = money(data ? data.total_price : 0);
  }

  async function removeItem(item) {
    try {
      const { data } = await call('DELETE', `/basket/items/${item.id}`);
      showBasket(data);
      await loadEvents();
    } catch (error) { fail(error); }
  }

  async function openCheckout() {
    say('');
    const { data: details } = await call('GET', '/client_details');
    const fields = $('client-fields');
    fields.replaceChildren();
    for (const field of details.fields.filter((f) => f.enabled)) {
      const type = field.name === 'email' ? 'email' : field.name === 'newsletter' ? 'checkbox'
        : field.name === 'date_of_birth' ? 'date' : 'text';
      const required = field.required || field.name === 'email';
      const input = element('input', { id: `client-${field.name}`, name: field.name, type, required });
      fields.append(type === 'checkbox' ? element('label', { class: 'check' }, input, field.label)
        : labelled(`client-${field.name}`, field.label, required, input));
    }
    const questions = $('question-fields');
    questions.replaceChildren();
    const chains = new Map();
    for (const item of basket._embedded.items.filter((i) => i.status === 'held' && i.event_chain_id)) {
      if (!chains.has(item.event_chain_id)) {
        chains.set(item.event_chain_id, (await call('GET', `/event_chains/${item.event_chain_id}`)).data);
      }
      const chain = chains.get(item.event_chain_id);
      if (!chain.detail_group_id) continue;
      const { data: group } = await call('GET', `/questions?detail_group_id=${chain.detail_group_id}`);
      const asked = group.questions.filter((q) => !q.admin_only && q.detail_type !== 'heading');
      if (!asked.length) continue;
      const box = element('fieldset', { class: 'card', 'data-item': item.id }, element('legend', { text: item.name }));
      for (const question of asked) box.append(questionInput(item, question));
      questions.append(box);
    }
    $('catalogue').hidden = true;
    $('basket').hidden = true;
    $('checkout').hidden = false;
  }

  function labelled(id, text, required, input) {
    return element('div', {}, element('label', { for: id, text: required ? `${text} *` : text }), input);
  }

  function questionInput(item, question) {
    const id = `q-${item.id}-${question.id}`;
    const common = { id, 'data-question': question.id, required: question.required };
    const priced = (option) => (option.price ? `${option.name} (+${money(option.price)})` : option.name);
    if (question.detail_type.startsWith('select') || question.detail_type.startsWith('radio')) {
      const select = element('select', common, element('option', { value: '', text: 'Choose…' }));
      for (const option of question.options) select.append(element('option', { value: option.name, text: priced(option) }));
      return labelled(id, question.name, question.required, select);
    }
    if (question.detail_type.startsWith('check')) {
      return element('label', { class: 'check' }, element('input', { ...common, type: 'checkbox' }), question.name);
    }
    const input = question.detail_type === 'text_area' ? element('textarea', common)
      : element('input', { ...common, type: question.detail_type === 'date' ? 'date' : 'text' });
    return labelled(id, question.name, question.required, input);
  }

  async function checkout(submitted) {
    submitted.preventDefault();
    const form = $('checkout-form');
    if (!form.reportValidity()) return;
    const client = {};
    for (const input of $('client-fields').querySelectorAll('input')) {
      if (input.type === 'checkbox') client[input.name] = input.checked;
      else if (input.value.trim()) client[input.name] = input.value.trim();
    }
    const items = [];
    for (const box of $('question-fields').querySelectorAll('fieldset')) {
      const answers = [...box.querySelectorAll('[data-question]')]
        .map((input) => ({ id: Number(input.dataset.question), answer: input.type === 'checkbox' ? input.checked : input.value }))
        .filter((answer) => answer.answer !== '');
      items.push({ id: box.dataset.item, answers });
    }
    $('pay').disabled = true;
    try {
      const { data: purchase } = await call('POST', '/basket/checkout', { client, items });
      sessionStorage.removeItem(storageKey);
      basketToken = null;
      showConfirmation(purchase);
    } catch (error) {
      say(error.status === 409 && error.body && error.body.error && error.body.error.code === 'hold_expired'
        ? 'Your basket expired before checkout: nothing was booked. Please add the events again.' : error.message);
    } finally {
      $('pay').disabled = false;
    }
  }

  function showConfirmation(purchase) {
    $('checkout').hidden = true;
    $('confirmation').hidden = false;
    $('confirmation-text').textContent =
      `Thank you, ${purchase.client_name}. Reference ${purchase.id}, total ${money(purchase.total_price)}.`;
    const list = $('confirmation-bookings');
    list.replaceChildren();
    for (const booking of purchase._embedded.bookings) {
      list.append(element('div', { class: 'card booking' },
        element('strong', { text: booking.describe }),
        element('div', { class: 'muted', text: `${when(booking.datetime)} · ${booking.quantity} space(s) · ${booking.state}` })));
    }
  }

  function fail(error) { say(error.message || String(error)); }

  async function start() {
    if (!config.company || !config.appId || !config.appKey) {
      say('This page needs company, app_id and app_key (the public key) in its address.');
      return;
    }
    $('to-checkout').addEventListener('click', () => openCheckout().catch(fail));
    $('back').addEventListener('click', () => {
      $('checkout').hidden = true; $('catalogue').hidden = false; showBasket(basket);
    });
    $('again').addEventListener('click', () => {
      $('confirmation').hidden = true; $('catalogue').hidden = false; showBasket(null); loadEvents().catch(fail);
    });
    $('checkout-form').addEventListener('submit', (event) => checkout(event).catch(fail));
    try {
      const { data: company } = await call('GET', `/api/v1/company/${config.company}`);
      $('company-name').textContent = `${company.name}: events`;
    } catch (error) { /* the heading keeps its default */ }
    if (basketToken) {
      try { showBasket((await call('GET', '/basket')).data); } catch (error) {
        basketToken = null; sessionStorage.removeItem(storageKey);
      }
    }
    await loadGroups();
    await loadEvents();
  }

  start().catch(fail);
}());
