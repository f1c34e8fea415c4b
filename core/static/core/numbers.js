/*
 * Numbers as the server writes them in the page's language (floatformat:"2g", intcomma):
 * en "1,234.50", ru "1 234,50". The language is <html lang>; Intl gives its separators. The
 * board, the dashboard and the live client list load this before their own script.
 */
(function () {
  "use strict";

  var LANG = document.documentElement.lang || undefined;
  var SEPARATORS = { group: ",", decimal: "." };
  new Intl.NumberFormat(LANG).formatToParts(1234.5).forEach(function (part) {
    if (part.type === "group" || part.type === "decimal") SEPARATORS[part.type] = part.value;
  });
  var integers = new Intl.NumberFormat(LANG);

  // "1234.5" -> "1,234.50" / "1 234,50", on the decimal string, never through a float: every
  // cent of a large total is kept.
  function amount(value) {
    var match = /^(-?)(\d+)(?:\.(\d*))?$/.exec(String(value));
    if (!match) return String(value);
    var cents = ((match[3] || "") + "00").slice(0, 2);
    var whole = match[2].replace(/^0+(?=\d)/, "").replace(/\B(?=(\d{3})+(?!\d))/g, SEPARATORS.group);
    return match[1] + whole + SEPARATORS.decimal + cents;
  }

  // amount()'s text back to a plain decimal string: "1 234,50" -> "1234.50".
  function parseAmount(value) {
    return String(value).split(SEPARATORS.group).join("").replace(/\s/g, "")
      .split(SEPARATORS.decimal).join(".");
  }

  function int(n) {
    return integers.format(Number(n));
  }

  // "+12.5 %" / "+12,5 %".
  function percent(value) {
    if (value === null || value === undefined) return "–";
    return (value > 0 ? "+" : "") + Number(value).toFixed(1).replace(".", SEPARATORS.decimal) + " %";
  }

  window.MiniCrmNumbers = {
    lang: LANG, amount: amount, parseAmount: parseAmount, int: int, percent: percent,
  };
})();
