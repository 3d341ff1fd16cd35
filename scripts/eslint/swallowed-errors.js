// ESLint rule `youlab/swallowed-error-says-why`: an error that is caught and dropped must say why.
// A `.catch(handler)` whose handler ignores the error, and a `catch` clause that ignores it, pass
// only with a comment inside (or on the line of) the handler, or when the handler does something
// with the failure (calls a function: logs it, records it, rethrows another error).
// No published rule checks this: no-empty and no-empty-function only see empty bodies, and a
// handler such as `() => undefined` swallows just as silently.

function usesParam(context, fn) {
  const p = fn.params?.[0] ?? fn.param;
  if (!p) return false;
  if (p.type !== 'Identifier') return true;
  const vars = context.sourceCode.getDeclaredVariables(fn);
  const v = vars.find((x) => x.name === p.name);
  return !!v && v.references.length > 0;
}

function saysWhy(context, node, body) {
  const sc = context.sourceCode;
  if (sc.getCommentsInside(node).length > 0) return true;
  const line = node.loc.start.line;
  const end = node.loc.end.line;
  // A comment on the handler's own lines, or on the line just above the statement that holds it.
  for (const c of sc.getAllComments()) {
    if (c.loc.start.line >= line - 1 && c.loc.start.line <= end) return true;
  }
  let calls = false;
  const visit = (n) => {
    if (!n || typeof n.type !== 'string' || calls) return;
    if (n.type === 'CallExpression' || n.type === 'NewExpression' || n.type === 'ThrowStatement') {
      calls = true;
      return;
    }
    for (const k of Object.keys(n)) {
      if (k === 'parent') continue;
      const v = n[k];
      if (Array.isArray(v)) v.forEach(visit);
      else if (v && typeof v.type === 'string') visit(v);
    }
  };
  visit(body);
  return calls;
}

export default {
  meta: {
    type: 'suggestion',
    docs: { description: 'a caught error that is dropped says why (a comment) or is handled' },
    schema: [],
    messages: { silent: 'This drops an error without saying why: add a comment that says why it is safe, or log/handle it.' },
  },
  create(context) {
    return {
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier' || callee.property.name !== 'catch') return;
        const fn = node.arguments[0];
        if (!fn || (fn.type !== 'ArrowFunctionExpression' && fn.type !== 'FunctionExpression')) return;
        if (usesParam(context, fn)) return;
        if (!saysWhy(context, fn, fn.body)) context.report({ node: fn, messageId: 'silent' });
      },
      CatchClause(node) {
        if (node.param && usesParam(context, node)) return;
        if (!saysWhy(context, node, node.body)) context.report({ node, messageId: 'silent' });
      },
    };
  },
};
