// Report pages and the dashboard: draws each table's chart with ECharts (SVG) from the JSON block the
// page carries beside it, and shows the custom period's days only when the custom period is chosen.
// Without JavaScript the tables and the form work as they are.
(function () {
  "use strict";

  var lang = (document.documentElement.lang || "en").toLowerCase();
  var locale = lang.indexOf("zh") === 0 ? "ZH" : "EN";
  var numbers = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
  var compact = new Intl.NumberFormat(lang, { notation: "compact", maximumFractionDigits: 1 });

  function showCustomDays() {
    var period = document.getElementById("id_period");
    if (!period) return;
    var toggle = function () {
      var custom = period.value === "custom";
      document.querySelectorAll(".report-custom-day").forEach(function (field) {
        field.hidden = !custom;
      });
    };
    period.addEventListener("change", toggle);
    toggle();
  }

  function formatted(kind, value) {
    if (value === null || value === undefined) return "—";
    if (kind === "percent") return numbers.format(value) + "%";
    return numbers.format(value);
  }

  function axisOptions(spec) {
    var category = {
      type: "category",
      data: spec.categories,
      axisLabel: spec.horizontal ? { width: 160, overflow: "truncate" } : { hideOverlap: true },
      inverse: spec.horizontal,
    };
    var percent = spec.series[0].kind === "percent";
    var value = {
      type: "value",
      axisLabel: { formatter: function (v) { return compact.format(v) + (percent ? "%" : ""); } },
    };
    return spec.horizontal ? { xAxis: value, yAxis: category } : { xAxis: category, yAxis: value };
  }

  function options(spec) {
    var common = {
      aria: { enabled: true },
      tooltip: {
        trigger: spec.kind === "funnel" ? "item" : "axis",
        valueFormatter: function (value) { return formatted(spec.series[0].kind, value); },
      },
      legend: { show: spec.series.length > 1, top: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: spec.series.length > 1 ? 32 : 12, bottom: 8, containLabel: true },
    };
    if (spec.kind === "funnel") {
      return Object.assign(common, {
        legend: { show: false },
        series: [{
          type: "funnel",
          sort: "none",
          left: "10%",
          width: "80%",
          min: 0,
          max: Math.max.apply(null, spec.series[0].data.concat([1])),
          minSize: "8%",
          label: { show: true, position: "inside" },
          data: spec.categories.map(function (name, index) {
            return { name: name, value: spec.series[0].data[index] };
          }),
        }],
      });
    }
    return Object.assign(common, axisOptions(spec), {
      series: spec.series.map(function (series) {
        return {
          name: series.name,
          type: series.line ? "line" : "bar",
          data: series.data,
          connectNulls: false,
          barMaxWidth: 32,  // one or two groups (a lead's own team) would otherwise fill the chart
          emphasis: { focus: "series" },
          tooltip: { valueFormatter: function (value) { return formatted(series.kind, value); } },
        };
      }),
    });
  }

  function drawCharts() {
    if (typeof echarts === "undefined") return;
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var spec = JSON.parse(document.getElementById(element.dataset.chart).textContent);
      if (spec.horizontal) {
        element.style.height = Math.max(220, 28 * spec.categories.length + 60) + "px";
      }
      var chart = echarts.init(element, null, { renderer: "svg", locale: locale });
      chart.setOption(options(spec));
      new ResizeObserver(function () { chart.resize(); }).observe(element);
    });
  }

  showCustomDays();
  drawCharts();
})();
