// The native addon, seen from js/src/ (sources and jest) exactly as dist/ sees it:
// `require('../index')` from js/src resolves here, from dist/ to the package's own index.js.
module.exports = require('../index.js');
