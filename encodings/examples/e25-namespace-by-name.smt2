; expect: unsat
;
; semantics.md E25 "Namespace by name" (S1.1.2, S3.5.2).
;
; Policy set:
;   p0 = NP(prod) default-deny {podSelector: {}, policyTypes: [Ingress]}            (E2)
;   p1 = NP(prod) db {podSelector: {matchLabels: {app: db}}, ingress: [{from:
;        [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ops}}}]}]}
; Universe:
;   namespace atoms (policy namespaces + names given via kubernetes.io/metadata.name,
;   sorted): 0 = ops, 1 = prod, 2 = other
;   pod key app: 0 absent, 1 db, 2 other.  No namespace-label variable at all: the
;   requirement on kubernetes.io/metadata.name becomes "src.ns = ops" (S1.1.2).
;
; Question: can a pod of any namespace other than ops reach prod/db (not via db's node)?
; Expected: unsat.
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun NS_ops () Int 0)
(define-fun NS_prod () Int 1)
(define-fun NS_other () Int 2)
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
; kubernetes.io/metadata.name In [ops] -> src.ns in {idx(ops)}.
(define-fun p1.in0 () Bool (and (= src.kind POD) (= src.ns NS_ops)))

(define-fun ingress_ok () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not (or p0.selects_dst p1.selects_dst))
  (and p1.selects_dst p1.in0)))
(define-fun egress_ok () Bool true)
(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (not (= src.kind LOCAL_NODE)))
(assert (not (and (= src.kind POD) (= src.ns NS_ops))))   ; anything but an ops pod
(assert (and (= dst.kind POD) (= dst.ns NS_prod) (= |dst.label[app]| app_db)))
(assert allowed)
(check-sat)
