// An app without pages of its own: Grafana needs a module that exports an AppPlugin, the
// dashboards listed in plugin.json `includes` are the content.
define(['@grafana/data'], function (data) {
  return { plugin: new data.AppPlugin() };
});
