// The dashboard's charts (Chart.js, vendored in /static/vendor): the figures come from the page
// as JSON (<script type="application/json" id="dashboard-data">), never as inline code.
(function () {
  "use strict";

  var COLOURS = { count: "#2563eb", share: "#15803d", duration: "#b45309" };

  function read() {
    var node = document.getElementById("dashboard-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function formatter(locale, kind) {
    if (kind === "share") {
      var percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
      return function (value) { return percent.format(value); };
    }
    var number = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
    return function (value) { return number.format(value); };
  }

  function draw(data, series) {
    var canvas = document.getElementById("chart-" + series.metric);
    if (!canvas || typeof Chart === "undefined") {
      return;
    }
    var format = formatter(data.locale, series.kind);
    var colour = COLOURS[series.kind];
    var axis = { beginAtZero: true, title: { display: true, text: series.axis },
                 ticks: { callback: function (value) { return format(value); } } };
    if (series.kind === "share") {
      axis.max = 1;
    }
    if (series.kind === "count") {
      axis.ticks.precision = 0;  // whole conversations on the axis
    }
    canvas.chart = new Chart(canvas, {
      type: series.kind === "count" ? "bar" : "line",
      data: {
        labels: data.labels,
        datasets: [{ label: series.label, data: series.values, backgroundColor: colour,
                     borderColor: colour, spanGaps: true, tension: 0.2 }]
      },
      options: {
        locale: data.locale,
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (item) {
            return item.raw === null ? data.noData : series.label + " : " + format(item.raw);
          } } }
        },
        scales: { y: axis }
      }
    });
  }

  function start() {
    var data = read();
    if (data) {
      data.series.forEach(function (series) { draw(data, series); });
    }
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
