export default { nav: [], strings: { en: {}, zh: {} }, routes: [] };
