// The package's editor helpers (served by Node-RED at resources/node-red-contrib-redundancy/), used
// by every node dialog of the package:
//   - validators in Node-RED >= 3.1 form (a message instead of a bare red border), and a message
//     shown under each invalid field, rows of lists included; tabs holding an invalid field marked;
//   - the address-space browser (a lazy tree of the server's nodes, search by browse name, data type
//     and access shown, multi-select), through the deployed pair or a temporary connection;
//   - endpoint discovery (security modes, policies, user tokens, the server certificate);
//   - the certificate panel (the client certificate, refused server certificates, trust).
// The rules themselves are window.RedundancyRules (lib/rules, bundled by the build): the same
// functions and messages the runtime uses.
(function () {
  'use strict';
  if (window.RedundancyEditor) return;

  const CSS = `
.redundancy-msg { display: none; color: var(--red-ui-text-color-error, #d61f1f); font-size: 0.85em; line-height: 1.3em; margin: 3px 0 0 104px; white-space: normal; }
.redundancy-msg.redundancy-active { display: block; }
.redundancy-msg.redundancy-row { margin-left: 0; }
.redundancy-msg.redundancy-warn { color: var(--red-ui-text-color-warning, #b8860b); }
.red-ui-tab.redundancy-tab-error > a.red-ui-tab-label { color: var(--red-ui-text-color-error, #d61f1f) !important; }
.red-ui-tab.redundancy-tab-error > a.red-ui-tab-label::after { content: " \\26A0"; }
.redundancy-browse { display: flex; flex-direction: column; height: 100%; gap: 6px; }
.redundancy-browse-bar { display: flex; gap: 6px; align-items: center; }
.redundancy-browse-bar select { flex: 2; }
.redundancy-browse-bar input { flex: 2; }
.redundancy-browse-tree { flex: 1; min-height: 200px; border: 1px solid var(--red-ui-secondary-border-color, #ccc); border-radius: 3px; overflow: auto; }
.redundancy-browse-status { min-height: 1.3em; font-size: 0.9em; }
.redundancy-browse-status.redundancy-error { color: var(--red-ui-text-color-error, #d61f1f); }
.redundancy-browse-picked { font-size: 0.9em; opacity: 0.85; }
.redundancy-table { width: 100%; border-collapse: collapse; font-size: 0.9em; }
.redundancy-table td, .redundancy-table th { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--red-ui-secondary-border-color, #ddd); vertical-align: top; }
.redundancy-table tr.redundancy-pickable { cursor: pointer; }
.redundancy-table tr.redundancy-pickable:hover { background: var(--red-ui-list-item-background-hover, #eee); }
.redundancy-cert { border: 1px solid var(--red-ui-secondary-border-color, #ccc); border-radius: 3px; padding: 6px 8px; margin: 6px 0; font-size: 0.9em; }
.redundancy-cert.redundancy-refused { border-color: var(--red-ui-text-color-error, #d61f1f); }
.redundancy-cert .redundancy-cert-title { font-weight: bold; margin-bottom: 3px; }
.redundancy-cert code { font-size: 0.95em; word-break: break-all; color: inherit; background: none; border: none; padding: 0; }
.redundancy-live { font-size: 0.9em; margin: 4px 0 8px 0; }
`;
  $('<style id="redundancy-editor-style">').text(CSS).appendTo('head');

  const rules = () => window.RedundancyRules;

  /** A Node-RED >= 3.1 validator: true, or the message (two parameters: Node-RED checks the arity). */
  function validator(check) {
    return function (value, opt) {
      void opt;
      let message;
      try {
        message = check.call(this, value, this);
      } catch (err) {
        message = String(err && err.message ? err.message : err);
      }
      return message ? message : true;
    };
  }

  /** The message div under a field (created on first use) or under a list row. */
  function messageFor($el, rowLevel) {
    if (rowLevel) {
      let div = $el.children('.redundancy-msg');
      if (div.length === 0) div = $('<div class="redundancy-msg redundancy-row"/>').appendTo($el);
      return div;
    }
    const row = $el.closest('.form-row');
    const host = row.length ? row : $el.parent();
    let div = host.children('.redundancy-msg');
    if (div.length === 0) div = $('<div class="redundancy-msg"/>').appendTo(host);
    return div;
  }

  /** Shows `message` under the field (or hides it), and marks the field. */
  function mark($input, message, opts) {
    opts = opts || {};
    if (!$input || $input.length === 0) return;
    $input.toggleClass('input-error', !!message && !opts.warn);
    const div = messageFor(opts.row || $input, !!opts.row);
    div.toggleClass('redundancy-warn', !!opts.warn);
    div.toggleClass('redundancy-active', !!message).text(message || '');
  }

  /** Marks each tab whose content holds an active message (a field on a hidden tab is not missed). */
  function markTabs(tabsUlSelector, contentSelector) {
    $(contentSelector).children().each(function () {
      const id = this.id;
      const bad = $(this).find('.redundancy-msg.redundancy-active:not(.redundancy-warn)').length > 0;
      const li = $(tabsUlSelector).find('a.red-ui-tab-label[href="#' + id + '"]').parent();
      li.toggleClass('redundancy-tab-error', bad);
      li.attr('title', bad ? 'a field on this tab needs attention' : null);
    });
  }

  let watchers = 0;
  /**
   * Runs `refresh` on every edit inside the dialog that holds `anchor` (typing, selects, list rows
 * added or removed).
   * Returns a handle whose stop() unbinds exactly this dialog (another dialog of the stack may be
   * opening or closing meanwhile).
   */
  function watch(anchor, refresh) {
    let timer;
    const ns = '.redundancyWatch' + (++watchers);
    // The dialog holding `anchor` (an element only this dialog has): a dialog that just closed may
    // still be in the page for a moment, with ids like #dialog-form of its own.
    const el = $(anchor).last().closest('form, .red-ui-tray-body');
    const run = function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 60);
    };
    el.on('input' + ns + ' change' + ns + ' keyup' + ns + ' paste' + ns, 'input, select, textarea', run);
    const observer = new MutationObserver(run);
    el.find('ol, ul.red-ui-editableList-list').each(function () { observer.observe(this, { childList: true, subtree: false }); });
    setTimeout(refresh, 0);
    return {
      run: run,
      stop: function () {
        clearTimeout(timer);
        observer.disconnect();
        el.off(ns);
      }
    };
  }

  function errorText(xhr, fallback) {
    if (xhr && xhr.status === 401) return 'not allowed: your Node-RED user lacks the permission for this (redundant-pair.write to connect or trust, redundant-pair.read to look)';
    if (xhr && xhr.responseJSON && xhr.responseJSON.error) return xhr.responseJSON.error;
    if (xhr && xhr.responseText) return xhr.responseText;
    return fallback || 'no answer from Node-RED';
  }

  function post(url, body) {
    return $.ajax({ url: url, type: 'POST', contentType: 'application/json', data: JSON.stringify(body), dataType: 'json', timeout: 30000 });
  }

  function get(url, query) {
    return $.ajax({ url: url, type: 'GET', data: query || {}, dataType: 'json', timeout: 30000 });
  }

  // -- the pair a dialog browses through --

  /** The settings of a pair config node for a temporary connection (its editor values). */
  function pairSettings(pairNode, channel) {
    const channels = rules().pair.channelEndpoints(pairNode);
    const c = channels[channel || 0] || channels[0];
    const creds = pairNode.credentials || {};
    return {
      pair: pairNode.id,
      endpoint: c.endpoint,
      securityMode: pairNode.securityMode || 'None',
      securityPolicy: pairNode.securityPolicy || 'None',
      authMode: pairNode.authMode || 'anonymous',
      user: creds.user,
      password: creds.password === undefined && creds.has_password ? '__PWRD__' : creds.password,
      acceptUnknownCertificates: pairNode.acceptUnknownCertificates === true
    };
  }

  /** Whether the pair runs in the runtime as it is in the editor (then its active server is browsed). */
  function deployedAsIs(pairNode) {
    return !!pairNode && !pairNode.changed;
  }

  /** Browses (or searches) through the chosen source; resolves {entries} or {hits}. */
  function query(source, pairNode, what, arg) {
    if (source === 'deployed') {
      const url = 'redundancy/pairs/' + encodeURIComponent(pairNode.id) + '/' + what;
      return get(url, what === 'browse' ? { node: arg || '', max: 500 } : { text: arg });
    }
    const body = pairSettings(pairNode, Number(source));
    if (what === 'browse') {
      body.node = arg || '';
      body.max = 500;
    } else {
      body.text = arg;
    }
    return post('redundancy/opcua/' + what, body);
  }

  function entryLabel(e) {
    const bits = [];
    if (e.nodeClass === 'Variable') {
      bits.push((e.dataType || 'Variant') + (e.valueRank >= 1 ? '[]' : ''));
      bits.push(e.writable ? 'read/write' : e.readable === false ? 'no access' : 'read only');
    } else {
      bits.push(e.nodeClass);
    }
    return bits.join(' · ');
  }

  /**
   * The address-space browser, in a tray over the dialog. options: {pairId, multi, title, onPick(entries)}.
   * Variables are picked (checkbox, or radio when one item is wanted); objects expand lazily.
   */
  function browse(options) {
    const pairNode = RED.nodes.node(options.pairId);
    if (!pairNode || pairNode.type !== 'redundant-pair') {
      RED.notify('Choose a redundant pair first: items are browsed on its servers.', 'warning');
      return;
    }
    const picked = new Map();
    let tree;
    let statusLine;
    let sourceSelect;
    let countLabel;
    const setStatus = function (text, isError) {
      statusLine.text(text || '').toggleClass('redundancy-error', !!isError);
    };
    const refreshCount = function () {
      countLabel.text(picked.size === 0 ? 'nothing picked' : picked.size === 1 ? '1 item picked' : picked.size + ' items picked');
      $('#redundancy-browse-add').prop('disabled', picked.size === 0);
    };
    const toItem = function (e, path) {
      const item = {
        label: e.displayName || e.browseName,
        sublabel: (path ? path + ' · ' : '') + entryLabel(e) + ' · ' + e.id,
        icon: e.nodeClass === 'Variable' ? 'fa fa-tag' : e.nodeClass === 'Method' ? 'fa fa-cog' : 'fa fa-folder-o',
        entry: e
      };
      if (e.nodeClass === 'Variable') {
        if (options.multi) {
          item.checkbox = true;
          item.selected = picked.has(e.id);
        } else {
          item.radio = 'redundancy-browse-pick';
          item.selected = picked.has(e.id);
        }
      }
      if (e.hasChildren && e.nodeClass !== 'Method') {
        item.children = function (done, parent) {
          load(parent.entry.id).then(done, function () { done([]); });
        };
      }
      return item;
    };
    const load = function (nodeId) {
      setStatus('reading ' + (nodeId || 'the Objects folder') + '…');
      return new Promise(function (resolve, reject) {
        query(sourceSelect.val(), pairNode, 'browse', nodeId).then(
          function (res) {
            setStatus(res.entries.length === 0 ? 'no children' : (res.entries.length >= 500 ? 'showing the first 500 children' : ''));
            resolve(res.entries.map(function (e) { return toItem(e); }));
          },
          function (xhr) {
            const msg = errorText(xhr);
            if (sourceSelect.val() === 'deployed' && xhr && xhr.status === 404) {
              // Not deployed (or not running): the dialog's settings instead.
              sourceSelect.val('0');
              setStatus(msg + ' · browsing with a temporary connection to the primary instead');
              load(nodeId).then(resolve, reject);
              return;
            }
            setStatus(msg, true);
            reject(new Error(msg));
          }
        );
      });
    };
    const reload = function () {
      tree.treeList('data', []);
      load('').then(function (items) { tree.treeList('data', items); }, function () { /* shown */ });
    };
    const search = function (text) {
      if (!text.trim()) return reload();
      setStatus('searching for "' + text + '"…');
      query(sourceSelect.val(), pairNode, 'search', text).then(
        function (res) {
          tree.treeList('data', res.hits.map(function (h) { return toItem(h, h.path); }));
          setStatus(res.hits.length + ' found' + (res.truncated ? ' (search stopped at a bound: ' + res.visited + ' nodes seen; narrow it down or browse)' : ' in ' + res.visited + ' nodes'));
        },
        function (xhr) { setStatus(errorText(xhr), true); }
      );
    };

    RED.tray.show({
      title: options.title || 'Browse the address space',
      width: 720,
      buttons: [
        { id: 'redundancy-browse-cancel', text: 'Cancel', click: function () { RED.tray.close(); } },
        {
          id: 'redundancy-browse-add', text: options.multi ? 'Add picked items' : 'Use this item', class: 'primary',
          click: function () {
            // The dialog below is detached while this tray is open: it is given the items once it is back.
            const entries = [...picked.values()];
            RED.tray.close(function () { options.onPick(entries); });
          }
        }
      ],
      open: function (tray) {
        const body = tray.find('.red-ui-tray-body');
        const box = $('<div class="redundancy-browse form-row"/>').css({ padding: '10px 16px', height: 'calc(100% - 20px)', boxSizing: 'border-box' }).appendTo(body);
        const bar = $('<div class="redundancy-browse-bar"/>').appendTo(box);
        $('<label style="width:auto;margin:0">Server</label>').appendTo(bar);
        sourceSelect = $('<select id="redundancy-browse-source"/>').appendTo(bar);
        $('<option value="deployed"/>').text('the deployed pair (its active server)').appendTo(sourceSelect);
        rules().pair.channelEndpoints(pairNode).forEach(function (c, i) {
          $('<option/>').val(String(i)).text(c.name + ': ' + c.endpoint + ' (temporary connection)').appendTo(sourceSelect);
        });
        sourceSelect.val(deployedAsIs(pairNode) ? 'deployed' : '0');
        const searchBox = $('<input type="text" id="redundancy-browse-search" placeholder="search by browse name, e.g. Counter">').appendTo(bar);
        $('<button type="button" class="red-ui-button" id="redundancy-browse-search-go"><i class="fa fa-search"></i></button>').appendTo(bar).on('click', function () { search(searchBox.val()); });
        searchBox.on('keydown', function (evt) { if (evt.key === 'Enter') { evt.preventDefault(); search(searchBox.val()); } });
        sourceSelect.on('change', reload);
        statusLine = $('<div class="redundancy-browse-status" id="redundancy-browse-status"/>').appendTo(box);
        const treeBox = $('<div class="redundancy-browse-tree" id="redundancy-browse-tree"/>').appendTo(box);
        tree = $('<div>').css({ width: '100%', height: '100%' }).appendTo(treeBox).treeList({ data: [], multi: !!options.multi, autoSelect: false });
        tree.on('treelistselect', function (evt, item) {
          if (!item || !item.entry || item.entry.nodeClass !== 'Variable') return;
          if (options.multi) {
            if (item.selected) picked.set(item.entry.id, item.entry);
            else picked.delete(item.entry.id);
          } else {
            picked.clear();
            picked.set(item.entry.id, item.entry);
          }
          refreshCount();
        });
        countLabel = $('<div class="redundancy-browse-picked" id="redundancy-browse-picked"/>').appendTo(box);
        refreshCount();
        reload();
      }
    });
  }

  // -- endpoint discovery and certificates (the pair dialog) --

  function certificateBlock(info, trust, onTrust, title) {
    const refused = trust !== 'trusted';
    const box = $('<div class="redundancy-cert"/>').toggleClass('redundancy-refused', refused);
    $('<div class="redundancy-cert-title"/>').text(title || info.commonName).appendTo(box);
    const rows = [
      ['Subject', info.subject],
      ['Thumbprint (SHA-1)', info.thumbprint],
      ['Valid', info.validFrom.slice(0, 10) + ' to ' + info.validTo.slice(0, 10) + (info.expired ? ' (EXPIRED or not yet valid)' : '')],
      ['Issuer', info.selfSigned ? 'self-signed' : info.issuer],
      ['Application URI', info.applicationUri || '—'],
      ['This Node-RED', trust === 'trusted' ? 'trusts it' : trust === 'rejected' ? 'does not trust it yet (it waits in rejected/)' : 'does not trust it yet']
    ];
    const table = $('<table class="redundancy-table"/>').appendTo(box);
    rows.forEach(function (r) {
      $('<tr/>').append($('<th style="width:140px"/>').text(r[0])).append($('<td/>').append($('<code/>').text(r[1]))).appendTo(table);
    });
    if (refused && onTrust) {
      $('<button type="button" class="red-ui-button redundancy-trust"><i class="fa fa-check"></i> Trust this certificate</button>')
        .attr('data-thumbprint', info.thumbprint)
        .css({ marginTop: '6px' })
        .appendTo(box)
        .on('click', function () { onTrust(info, $(this)); });
    }
    return box;
  }

  function trust(info, endpoint, done) {
    post('redundancy/opcua/trust', { thumbprint: info.thumbprint, endpoint: endpoint }).then(
      function (res) {
        RED.notify('Trusted: ' + res.trusted.commonName + ' (' + res.trusted.thumbprint + '), stored in ' + res.folder + '/trusted/certs', { type: 'success', id: 'redundancy-trust' });
        if (done) done(null, res);
      },
      function (xhr) {
        RED.notify('Not trusted: ' + errorText(xhr), 'error');
        if (done) done(xhr);
      }
    );
  }

  /** Lists the endpoints a server offers; a click on one calls onPick(endpoint). */
  function discover(endpointUrl, onPick) {
    const err = rules().opcua.checkOpcuaEndpoint(endpointUrl);
    if (err) {
      RED.notify('Discover: ' + err, 'warning');
      return;
    }
    RED.tray.show({
      title: 'Endpoints of ' + endpointUrl,
      width: 760,
      buttons: [{ id: 'redundancy-discover-close', text: 'Close', click: function () { RED.tray.close(); } }],
      open: function (tray) {
        const body = $('<div id="redundancy-discover" style="padding: 10px 16px"/>').appendTo(tray.find('.red-ui-tray-body'));
        const status = $('<div class="redundancy-browse-status" id="redundancy-discover-status"/>').text('asking ' + endpointUrl + ' which endpoints it offers (GetEndpoints)…').appendTo(body);
        post('redundancy/opcua/discover', { endpoint: endpointUrl }).then(
          function (res) {
            status.text(res.endpoints.length + ' endpoint(s). Click one to use its security settings' + '.');
            const table = $('<table class="redundancy-table" id="redundancy-discover-table"/>').appendTo(body);
            $('<tr><th>Security mode</th><th>Policy</th><th>Logins</th><th>Level</th><th>Endpoint URL</th></tr>').appendTo(table);
            res.endpoints.forEach(function (e) {
              const tr = $('<tr class="redundancy-pickable redundancy-endpoint"/>')
                .attr('data-mode', e.securityMode).attr('data-policy', e.securityPolicy)
                .append($('<td/>').text(e.securityMode))
                .append($('<td/>').text(e.securityPolicy))
                .append($('<td/>').text(e.userTokens.join(', ')))
                .append($('<td/>').text(String(e.securityLevel)))
                .append($('<td/>').text(e.endpointUrl))
                .appendTo(table);
              tr.on('click', function () {
                // The dialog below is detached while this tray is open: it is filled once it is back.
                RED.tray.close(function () { onPick(e); });
              });
            });
            Object.keys(res.certificates || {}).forEach(function (k) {
              const c = res.certificates[k];
              body.append(certificateBlock(c, c.trust, function (info, button) {
                trust(info, endpointUrl, function (e2) { if (!e2) button.replaceWith($('<div/>').text('trusted')); });
              }, 'Server certificate'));
            });
          },
          function (xhr) {
            status.addClass('redundancy-error').text(errorText(xhr));
          }
        );
      }
    });
  }

  /**
   * The certificate panel of the pair dialog: the client certificate (download, folder), the
   * refused certificates of this pair's servers and of the store, each with a trust button.
   */
  function certificatePanel(container, pairId, endpoints) {
    container.empty().append($('<div/>').text('reading the certificate store…'));
    const render = function () {
      $.when(get('redundancy/opcua/certificates'), pairId ? get('redundancy/pairs/' + encodeURIComponent(pairId) + '/status') : $.Deferred().resolve([{ deployed: false }])).then(
        function (storeRes, pairRes) {
          const store = storeRes[0];
          const pair = pairRes[0] || {};
          container.empty();
          const refusedHere = (pair.certificates || []).filter(function (v) { return !v.accepted; });
          refusedHere.forEach(function (v) {
            const title = 'Refused by the deployed pair: ' + v.endpoint;
            container.append(certificateBlock(v.info, 'rejected', function (info, button) {
              trust(info, v.endpoint, function (e) { if (!e) { button.remove(); render(); } });
            }, title));
          });
          const mine = (endpoints || []).filter(Boolean);
          const otherRejected = store.rejected.filter(function (c) {
            return !refusedHere.some(function (v) { return v.info.thumbprint === c.thumbprint; });
          });
          if (otherRejected.length) {
            $('<div style="margin-top:8px"/>').text('Other refused server certificates (rejected/), e.g. seen by "Discover":').appendTo(container);
            otherRejected.forEach(function (c) {
              container.append(certificateBlock(c, 'rejected', function (info, button) {
                trust(info, undefined, function (e) { if (!e) { button.remove(); render(); } });
              }, c.commonName));
            });
          }
          const own = $('<div class="redundancy-cert" id="redundancy-client-certificate"/>').appendTo(container);
          $('<div class="redundancy-cert-title"/>').text('This Node-RED\'s client certificate (give it to the servers\' administrators to trust)').appendTo(own);
          const t = $('<table class="redundancy-table"/>').appendTo(own);
          [['Subject', store.own.subject], ['Thumbprint (SHA-1)', store.own.thumbprint], ['Valid', store.own.validFrom.slice(0, 10) + ' to ' + store.own.validTo.slice(0, 10)], ['Application URI', store.own.applicationUri || '—'], ['Store', store.folder], ['Trusted servers', store.trusted.length ? store.trusted.map(function (c) { return c.commonName; }).join(', ') : 'none yet']].forEach(function (r) {
            $('<tr/>').append($('<th style="width:140px"/>').text(r[0])).append($('<td/>').append($('<code/>').text(r[1]))).appendTo(t);
          });
          $('<div style="margin-top:6px"/>')
            .append($('<a class="red-ui-button" target="_blank"><i class="fa fa-download"></i> client certificate (.der)</a>').attr('href', 'redundancy/opcua/client-certificate.der'))
            .append(' ')
            .append($('<a class="red-ui-button" target="_blank"><i class="fa fa-download"></i> (.pem)</a>').attr('href', 'redundancy/opcua/client-certificate.pem'))
            .appendTo(own);
          void mine;
        },
        function (xhr) {
          container.empty().append($('<div class="redundancy-browse-status redundancy-error"/>').text(errorText(xhr)));
        }
      );
    };
    render();
    return render;
  }

  /** The deployed pair's state in a line (the dialog shows what the runtime does with it now). */
  function liveState(container, pairId) {
    get('redundancy/pairs/' + encodeURIComponent(pairId) + '/status').then(
      function (res) {
        if (!res.deployed) return container.text('Not deployed yet.');
        if (res.configError) return container.addClass('redundancy-msg redundancy-active').css('margin-left', 0).text('Deployed with an error: ' + res.configError);
        const s = res.status;
        if (!s) return container.text('Deployed.');
        const servers = Object.keys(s.servers).map(function (k) {
          const h = s.servers[k];
          return k + ' ' + h.state + (h.state === 'healthy' || !h.reason ? '' : ' (' + h.reason + ')');
        });
        container.text('Deployed: active ' + (s.active || 'none') + '; ' + servers.join('; ') + (res.warning ? '; ' + res.warning : ''));
      },
      function () { container.text(''); }
    );
  }

  window.RedundancyEditor = {
    validator: validator,
    mark: mark,
    markTabs: markTabs,
    watch: watch,
    browse: browse,
    discover: discover,
    certificatePanel: certificatePanel,
    liveState: liveState,
    trust: trust,
    errorText: errorText
  };
})();
