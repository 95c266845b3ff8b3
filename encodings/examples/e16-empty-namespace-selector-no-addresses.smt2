; expect: unsat
;
; semantics.md E16 "namespaceSelector: {} peer" (S2.5, S3.5.2, S3.5.6).
;
; Policy set:
;   p0 = NP(prod) default-deny {podSelector: {}, policyTypes: [Ingress]}            (E2)
;   p1 = NP(prod) db {podSelector: {matchLabels: {app: db}},
;                     ingress: [{from: [{namespaceSelector: {}}]}]}
; Universe: namespace atoms 0 = prod, 1 = other; pod key app: 0 absent, 1 db, 2 other.
;   No namespace-label key: the empty selector has no requirement.
;
; Question: can an address (external IP, or a node other than db's own) reach prod/db?
; Expected: unsat. namespaceSelector {} matches every pod of every namespace, but its
; peer term starts with src.kind = POD, so no address matches it (S3.5.2).
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun NS_prod () Int 0)
(define-fun NS_other () Int 1)
(define-fun app_db () Int 1)
(define-fun app_OTHER () Int 2)
(define-fun allow_from_local_node () Bool true)

(declare-const src.kind Int)
(declare-const src.ns Int)
(declare-const |src.label[app]| Int)
(declare-const src.ip4 (_ BitVec 32))
(declare-const src.ip6 (_ BitVec 128))
(declare-const dst.kind Int)
(declare-const dst.ns Int)
(declare-const |dst.label[app]| Int)
(declare-const dst.ip4 (_ BitVec 32))
(declare-const dst.ip6 (_ BitVec 128))
(declare-const proto Int)
(declare-const port Int)
(declare-const v6 Bool)

(define-fun wf () Bool (and
  (<= 0 src.kind 2) (<= 0 dst.kind 1)
  (=> (= src.kind LOCAL_NODE) (= dst.kind POD))
  (<= 0 src.ns NS_other) (<= 0 dst.ns NS_other)
  (<= 0 |src.label[app]| app_OTHER) (<= 0 |dst.label[app]| app_OTHER)
  (<= 0 proto 2) (<= 1 port 65535)))

(define-fun p0.selects_dst () Bool (and (= dst.kind POD) (= dst.ns NS_prod)))
(define-fun p1.selects_dst () Bool
  (and (= dst.kind POD) (= dst.ns NS_prod) (= |dst.label[app]| app_db)))
; namespaceSelector only: kind = pod AND nssel; nssel({}) = true (S2.5). No ns = N.
(define-fun p1.in0 () Bool (and (= src.kind POD) true))

(define-fun ingress_ok () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not (or p0.selects_dst p1.selects_dst))
  (and p1.selects_dst p1.in0)))
(define-fun egress_ok () Bool true)
(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (= src.kind ADDRESS))                       ; an address, either family
(assert (and (= dst.kind POD) (= dst.ns NS_prod) (= |dst.label[app]| app_db)))
(assert allowed)
(check-sat)
