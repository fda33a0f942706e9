// Jobs: the tenant's jobs, newest first, with status, problems, progress and age, refreshed every
// two seconds; 25 a page, older pages by the API's before_ms cursor.
import {api} from "./api.js";
import {age, badge, errorBox, fill, h} from "./dom.js";

const PAGE = 25;

export function jobsView(root, ctx) {
  const table = h("div", {}, h("p", {class: "muted"}, "Loading…"));
  const pager = h("div", {class: "pager"});
  fill(root, h("h1", {}, "Jobs"), table, pager);
  const cursors = [0];  // before_ms of each page seen; 0 is the newest
  let page = 0;

  async function load() {
    try {
      const before = cursors[page];
      const list = await api(
          `/v1/jobs?limit=${PAGE}${before ? `&before_ms=${before}` : ""}`, {signal: ctx.signal});
      fill(
          table,
          list.data.length === 0 ?
              h("p", {class: "muted", id: "no-jobs"}, "No jobs yet. ",
                h("a", {href: "#/submit"}, "Submit one.")) :
              h("table", {id: "jobs"},
                h("thead", {},
                  h("tr", {}, h("th", {}, "Job"), h("th", {}, "Status"),
                    h("th", {class: "num"}, "Problems"), h("th", {class: "num"}, "Tasks done"),
                    h("th", {}, "Created"))),
                h("tbody", {},
                  list.data.map(
                      (j) => h(
                          "tr", {"data-job": j.id},
                          h("td", {}, h("a", {href: `#/job/${j.id}`}, j.id)),
                          h("td", {}, badge(j.status)), h("td", {class: "num"}, j.problems ?? "–"),
                          h("td", {class: "num"}, j.tasks_done ?? "–"),
                          h("td", {title: new Date(j.created_at_ms).toISOString()},
                            age(j.created_at_ms)))))));
      if (list.next_before_ms) cursors[page + 1] = list.next_before_ms;
      fill(
          pager,
          h("button", {
            disabled: page === 0,
            onclick: () => {
              page--;
              load();
            }
          },
            "Newer"),
          h("span", {class: "muted"}, `page ${page + 1}`),
          h("button", {
            disabled: !list.next_before_ms,
            onclick: () => {
              page++;
              load();
            }
          },
            "Older"));
    } catch (e) {
      if (e.name !== "AbortError") fill(table, errorBox(e));
    }
  }
  load();
  ctx.every(() => {
    if (page === 0) load();
  }, 2000);
}
