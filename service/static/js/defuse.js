// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // A confirmed form (Send report, Send message): once it is sent, the preview page it sits on
  // becomes a plain page in the history, so Back after sending shows that page instead of the
  // browser's "confirm form resubmission". A resend without JavaScript still files nothing:
  // the form carries a one-time submission token.
  document.querySelectorAll("form[data-leaves-history]").forEach(function (form) {
    form.addEventListener("submit", function () {
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", form.getAttribute("data-leaves-history"));
      }
    });
  });

  // Character counters: the server renders the count and the limit message; this keeps the
  // count live while typing. Nothing is ever cut: over the limit, the form says by how much.
  document.querySelectorAll("textarea[data-limit]").forEach(function (box) {
    var limit = parseInt(box.getAttribute("data-limit"), 10);
    var counter = document.getElementById(box.id + "-count");
    if (!counter || !limit) { return; }
    // The page's own words for the count, with {used}, {limit} and {over} to fill in.
    var words = counter.getAttribute("data-words");
    var wordsOver = counter.getAttribute("data-words-over");
    if (!words || !wordsOver) { return; }
    var lang = document.documentElement.lang || "en";
    var format = function (n) { return n.toLocaleString(lang); };
    var fill = function (text, used) {
      return text.replace("{used}", format(used)).replace("{limit}", format(limit))
        .replace("{over}", format(used - limit));
    };
    var update = function () {
      var used = box.value.length;
      counter.textContent = fill(used > limit ? wordsOver : words, used);
      counter.classList.toggle("over-limit", used > limit);
    };
    box.addEventListener("input", update);
    update();
  });
})();
