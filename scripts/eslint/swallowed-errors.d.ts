// Types for the rule module, which eslint.config.js loads as plain JavaScript.
import type { Rule } from 'eslint';

declare const rule: Rule.RuleModule;
export default rule;
