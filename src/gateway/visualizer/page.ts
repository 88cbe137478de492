/**
 * The visualizer's page (`GET /`): the static skeleton; ./script.ts fills it from the API.
 * Kept as a TypeScript string so that `tsc` carries it into dist/ (no copy step).
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="color-scheme" content="light dark" />
    <title>ekaf · live actors</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/assets/app.css" />
    <script type="module" src="/assets/app.js"></script>
  </head>
  <body>
    <a class="skip" href="#tree">Skip to the actors</a>
    <header class="top">
      <h1><span class="logo" aria-hidden="true">◆</span> ekaf <span class="sub">live actors</span></h1>
      <p id="totals" class="totals"></p>
      <p id="conn" class="conn" data-status="connecting" role="status">
        <span class="dot" aria-hidden="true"></span><span id="conn-text">connecting…</span>
      </p>
    </header>
    <main class="layout">
      <section class="panel tree-panel" aria-labelledby="tree-title">
        <div class="panel-head">
          <h2 id="tree-title">Actors</h2>
          <div class="filter">
            <label for="filter">Filter</label>
            <input
              id="filter"
              type="search"
              placeholder="name or state, e.g. buffering"
              autocomplete="off"
              spellcheck="false"
              aria-describedby="filter-count"
            />
            <span id="filter-count" class="filter-count" aria-live="polite"></span>
          </div>
        </div>
        <div id="tree" class="tree" tabindex="-1">
          <p class="empty" id="tree-empty">Waiting for the producer…</p>
          <div id="root-slot"></div>
          <ul class="children" id="children" hidden>
            <li class="branch" id="metadata-slot"></li>
            <li class="branch" id="spool-slot" hidden></li>
            <li class="branch">
              <section aria-labelledby="brokers-title">
                <h3 id="brokers-title" class="group-title">Broker connections <span id="brokers-count" class="count"></span></h3>
                <ul class="cards" id="brokers"></ul>
              </section>
            </li>
            <li class="branch">
              <section aria-labelledby="topics-title">
                <h3 id="topics-title" class="group-title">Topics <span id="topics-count" class="count"></span></h3>
                <div id="topics" class="topics"></div>
                <p class="empty" id="topics-empty">No topic yet: topics appear with the first record produced to them.</p>
              </section>
            </li>
          </ul>
        </div>
      </section>
      <aside class="panel detail-panel" aria-labelledby="detail-title">
        <div class="panel-head">
          <h2 id="detail-title">Selected actor</h2>
        </div>
        <div id="detail" class="detail">
          <p class="empty">Select an actor to see its machine, its state and its counters.</p>
        </div>
      </aside>
    </main>
  </body>
</html>
`;
