// Builds Timekit's booking widget from the npm package's own src with the package's own
// production webpack config (node_modules/timekit-booking/webpack.prod.js), unchanged but for
// what a self-hosted, offline page needs:
//   - output goes to ../chalicelib/static/build/ (git-ignored; inside chalicelib so that
//     `chalice package` puts it in the Lambda zip), flat, served by the app at static/build/<file>;
//   - the stylesheet's `@import url(https://fonts.googleapis.com/...)` is dropped and the same
//     font (Open Sans 400 and 600, latin) comes from @fontsource/open-sans, a dependency of the
//     package itself, inlined into booking.min.css: a page never calls a font CDN, and the app
//     serves only text files (API Gateway would need binary media types for font files);
//   - only the `booking` entry: the package's other entry (`appointments`, TimekitAppointments)
//     lists locations and services through endpoints this engine does not serve.
const path = require('path');

const packageDir = path.dirname(require.resolve('timekit-booking/package.json'));
const config = require(path.join(packageDir, 'webpack.prod.js'));
const OUT = path.resolve(__dirname, '..', 'chalicelib', 'static', 'build');

// A PostCSS plugin: removes @import rules that point at another host.
const dropRemoteImports = () => ({
  postcssPlugin: 'drop-remote-imports',
  AtRule: {
    import: (rule) => {
      if (/^(url\()?\s*['"]?https?:/i.test(rule.params)) rule.remove();
    },
  },
});
dropRemoteImports.postcss = true;

config.context = packageDir;
config.entry = { booking: config.entry.booking };
config.output = { ...config.output, path: OUT, publicPath: 'auto', clean: false };
config.entry.booking.import = [
  '@fontsource/open-sans/latin-400.css',
  '@fontsource/open-sans/latin-600.css',
  config.entry.booking.import,
];
for (const rule of config.module.rules) {
  if (Array.isArray(rule.use)) {
    rule.use = rule.use.map((loader) =>
      loader === 'postcss-loader'
        ? { loader, options: { postcssOptions: { plugins: [dropRemoteImports] } } }
        : loader,
    );
  }
}
// The fonts referenced by @fontsource's CSS, as data: URLs inside the CSS.
config.module.rules.push({ test: /\.(woff2?)$/, type: 'asset/inline' });
// Messages about bundle size and Sass's legacy API are the package's, not ours to fix.
config.performance = { hints: false };
config.stats = 'errors-warnings';
config.ignoreWarnings = [/legacy JS API/, /Deprecation/];

module.exports = config;
