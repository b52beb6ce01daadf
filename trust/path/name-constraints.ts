import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import { x509 } from '../x509.js';

/**
 * RFC 5280 §4.2.1.10 name constraints for the name forms Berth's identities use: DNS names and
 * URIs (whose host part is constrained, so `spiffe://<trust-domain>/…` is held to the trust
 * domains a CA may issue for) and e-mail addresses. A constraint of any other form (IP
 * addresses, directory names) is not evaluated, so a path that has such a constraint is refused
 * rather than accepted unchecked. Returns why a name is refused, or undefined.
 */
export function nameConstraintViolation(issuer: x509.X509Certificate, subject: x509.X509Certificate): string | undefined {
  const ext = issuer.extensions.find((e) => e.type === id_ce_nameConstraints);
  if (!ext) return undefined;
  let constraints: NameConstraints;
  try {
    constraints = AsnConvert.parse(ext.value, NameConstraints);
  } catch {
    return `the name constraints of '${issuer.subject}' do not parse`;
  }
  const permitted = (constraints.permittedSubtrees ?? []).map((s) => s.base);
  const excluded = (constraints.excludedSubtrees ?? []).map((s) => s.base);
  for (const base of [...permitted, ...excluded]) {
    if (formOf(base) === undefined) return `'${issuer.subject}' has a name constraint of a form Berth does not evaluate (only DNS, URI and e-mail)`;
  }
  for (const name of namesOf(subject)) {
    const ofForm = permitted.filter((b) => formOf(b) === name.form);
    if (ofForm.length > 0 && !ofForm.some((b) => matches(b, name)))
      return `${name.form} name '${name.value}' is outside the names '${issuer.subject}' may issue for`;
    if (excluded.some((b) => formOf(b) === name.form && matches(b, name))) return `${name.form} name '${name.value}' is excluded by '${issuer.subject}'`;
  }
  return undefined;
}

type Form = 'dns' | 'uri' | 'email';
interface Name {
  form: Form;
  value: string;
}

function formOf(base: GeneralName): Form | undefined {
  if (base.dNSName !== undefined) return 'dns';
  if (base.uniformResourceIdentifier !== undefined) return 'uri';
  if (base.rfc822Name !== undefined) return 'email';
  return undefined;
}

function namesOf(cert: x509.X509Certificate): Name[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names: Name[] = [];
  for (const n of san?.names.items ?? []) {
    if (n.type === 'dns') names.push({ form: 'dns', value: n.value });
    else if (n.type === 'url') names.push({ form: 'uri', value: n.value });
    else if (n.type === 'email') names.push({ form: 'email', value: n.value });
  }
  return names;
}

function matches(base: GeneralName, name: Name): boolean {
  if (name.form === 'dns') return dnsWithin(name.value, base.dNSName!);
  if (name.form === 'uri') {
    const host = uriHost(name.value);
    return host !== undefined && hostWithin(host, base.uniformResourceIdentifier!);
  }
  const constraint = base.rfc822Name!.toLowerCase();
  const mailbox = name.value.toLowerCase();
  if (constraint.includes('@')) return mailbox === constraint;
  return hostWithin(mailbox.slice(mailbox.lastIndexOf('@') + 1), constraint);
}

/** DNS: `example.com` covers itself and every name below it (§4.2.1.10); empty covers all. */
function dnsWithin(name: string, constraint: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const c = constraint.toLowerCase().replace(/^\./, '');
  return c === '' || n === c || n.endsWith(`.${c}`);
}

/** URI and e-mail hosts: `.example.com` covers the names below it, `example.com` only itself. */
function hostWithin(host: string, constraint: string): boolean {
  const h = host.toLowerCase();
  const c = constraint.toLowerCase();
  return c.startsWith('.') ? h.endsWith(c) : h === c;
}

function uriHost(uri: string): string | undefined {
  try {
    const host = new URL(uri).hostname;
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}
