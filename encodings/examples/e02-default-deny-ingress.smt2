; expect: unsat
;
; semantics.md E2 "Default-deny ingress" (S3.2.1, S3.2.3, S3.3.1, S3.3.4, S6.4).
;
; Policy set:
;   p0 = NP(prod) default-deny {podSelector: {}, policyTypes: [Ingress]}
; Universe (everything the policies mention):
;   namespace atoms: 0 = prod, 1 = other.  No label keys, no port names.
; Flags: defaults (allow-from-local-node on).
;
; Question: is some well-formed flow into a pod of prod allowed although its source
; is not the destination pod's own node?
; Expected: unsat. p0 isolates every pod of prod for ingress (S3.2.3) and has no
; ingress rule (S3.3.4); only the local-node exemption (S3.3.1 a) could allow.
; This file also shows the three-tier shape of a direction verdict (README §7);
; with no AdminNetworkPolicy or BaselineAdminNetworkPolicy the outer tiers never match.
(set-logic ALL)

; --- constants -----------------------------------------------------------------
(define-fun POD () Int 0)           ; endpoint kinds
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)    ; the destination pod's own node (sources only)
(define-fun TCP () Int 0)
(define-fun UDP () Int 1)
(define-fun SCTP () Int 2)
(define-fun NS_prod () Int 0)
(define-fun NS_other () Int 1)      ; any namespace no policy names
(define-fun allow_from_local_node () Bool true)   ; S6.4 default

; --- flow variables ------------------------------------------------------------
(declare-const src.kind Int)
(declare-const src.ns Int)
(declare-const src.ip4 (_ BitVec 32))
(declare-const src.ip6 (_ BitVec 128))
(declare-const dst.kind Int)
(declare-const dst.ns Int)
(declare-const dst.ip4 (_ BitVec 32))
(declare-const dst.ip6 (_ BitVec 128))
(declare-const proto Int)
(declare-const port Int)
(declare-const v6 Bool)

; --- well-formedness (README §3) ---------------------------------------------------
(define-fun wf () Bool (and
  (<= 0 src.kind 2) (<= 0 dst.kind 1)           ; only a source can be the own node
  (=> (= src.kind LOCAL_NODE) (= dst.kind POD)) ; "own node" needs a destination pod
  (<= 0 src.ns NS_other) (<= 0 dst.ns NS_other)
  (<= 0 proto 2) (<= 1 port 65535)))

; --- p0 -------------------------------------------------------------------------
; p0 selects the destination (S3.2.1): a pod, in prod, podSelector {} (no requirement).
(define-fun p0.selects_dst () Bool (and (= dst.kind POD) (= dst.ns NS_prod)))

; --- ingress verdict, tier by tier (S4.2.1; NP only here) ---------------------------
(define-fun admin_ingress_match () Bool false)     ; no AdminNetworkPolicy
(define-fun admin_ingress_allow () Bool false)
; NP tier: isolated iff some policy with Ingress selects dst (S3.2.3): only p0.
(define-fun np_ingress_isolated () Bool p0.selects_dst)
; NP allow: local-node exemption (S3.3.1 a) or a matching ingress rule; p0 has none.
(define-fun np_ingress_allow () Bool
  (or (and (= src.kind LOCAL_NODE) allow_from_local_node) false))
(define-fun baseline_ingress_match () Bool false)  ; no BaselineAdminNetworkPolicy
(define-fun baseline_ingress_allow () Bool false)
; Non-pod destinations are never restricted (S3.7.1).
(define-fun ingress_ok () Bool (or (not (= dst.kind POD))
  (ite admin_ingress_match admin_ingress_allow
  (ite np_ingress_isolated np_ingress_allow
  (ite baseline_ingress_match baseline_ingress_allow true)))))
; No policy lists Egress, so no source pod is egress-isolated (S3.2.3).
(define-fun egress_ok () Bool true)
(define-fun allowed () Bool (and egress_ok ingress_ok))

; --- query -----------------------------------------------------------------------
(assert wf)
(assert (= dst.kind POD))                  ; the destination is a pod ...
(assert (= dst.ns NS_prod))                ; ... of prod
(assert (not (= src.kind LOCAL_NODE)))     ; any source but that pod's own node
(assert allowed)                           ; and the flow is allowed: impossible
(check-sat)
