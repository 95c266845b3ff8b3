; expect: unsat
;
; Well-formedness: two pods in the same named namespace see the same namespace labels
; (S1.1.2: labels belong to the namespace; S3.5.2 namespaceSelector), README §3.
;
; Policy set:
;   p0 = NP(prod) {podSelector: {}, policyTypes: [Ingress, Egress],
;        ingress: [{from: [{namespaceSelector: {matchLabels: {env: dev}}}]}],
;        egress:  [{to:   [{namespaceSelector: {matchLabels: {env: prod}}}]}]}
; Universe: namespace atoms 0 = prod, 1 = other; no pod-label key;
;   namespace-label key env: 0 absent, 1 "dev", 2 "prod", 3 other.
;
; Question: is a flow between two pods of prod allowed?
; Expected: unsat. Egress needs the destination's namespace labelled env=prod, ingress
; needs the source's namespace labelled env=dev; both are namespace prod, whose one
; env label cannot be both. Without the tie in wf the solver would answer sat with
; |src.nslabel[env]| = 1 and |dst.nslabel[env]| = 2, a flow that cannot exist.
; (Two pods in the "other" atom may be in two different namespaces, so no tie there.)
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun NS_prod () Int 0)
(define-fun NS_other () Int 1)
(define-fun env_dev () Int 1)
(define-fun env_prod () Int 2)
(define-fun env_OTHER () Int 3)
(define-fun allow_from_local_node () Bool true)

(declare-const src.kind Int)
(declare-const src.ns Int)
(declare-const |src.nslabel[env]| Int)
(declare-const src.ip4 (_ BitVec 32))
(declare-const src.ip6 (_ BitVec 128))
(declare-const dst.kind Int)
(declare-const dst.ns Int)
(declare-const |dst.nslabel[env]| Int)
(declare-const dst.ip4 (_ BitVec 32))
(declare-const dst.ip6 (_ BitVec 128))
(declare-const proto Int)
(declare-const port Int)
(declare-const v6 Bool)

(define-fun wf () Bool (and
  (<= 0 src.kind 2) (<= 0 dst.kind 1)
  (=> (= src.kind LOCAL_NODE) (= dst.kind POD))
  (<= 0 src.ns NS_other) (<= 0 dst.ns NS_other)
  (<= 0 |src.nslabel[env]| env_OTHER) (<= 0 |dst.nslabel[env]| env_OTHER)
  (=> (and (= src.kind POD) (= dst.kind POD) (= src.ns dst.ns) (not (= src.ns NS_other)))
      (= |src.nslabel[env]| |dst.nslabel[env]|))           ; the tie under test
  (<= 0 proto 2) (<= 1 port 65535)))

(define-fun p0.selects_src () Bool (and (= src.kind POD) (= src.ns NS_prod)))
(define-fun p0.selects_dst () Bool (and (= dst.kind POD) (= dst.ns NS_prod)))
(define-fun p0.in0 () Bool (and (= src.kind POD) (= |src.nslabel[env]| env_dev)))
(define-fun p0.eg0 () Bool (and (= dst.kind POD) (= |dst.nslabel[env]| env_prod)))

(define-fun egress_ok () Bool (or
  (not (= src.kind POD))
  (not p0.selects_src)
  (and p0.selects_src p0.eg0)))
(define-fun ingress_ok () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not p0.selects_dst)
  (and p0.selects_dst p0.in0)))
(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (and (= src.kind POD) (= src.ns NS_prod)))
(assert (and (= dst.kind POD) (= dst.ns NS_prod)))
(assert allowed)
(check-sat)
