; expect: sat
;
; semantics.md E21 "In does not select pods lacking the key" (S2.3).
;
; Policy set:
;   p0 = NP(prod) {podSelector: {matchExpressions: [{key: tier, operator: In,
;                  values: [be]}]}, policyTypes: [Ingress]}
; Universe: namespace atoms 0 = prod, 1 = other;
;   pod key tier: 0 = absent, 1 = "be", 2 = any other value.
;
; Question: can an address reach a prod pod that has no tier label?
; Expected: sat (the model has |dst.label[tier]| = 0). In [be] is "index in {1}";
; absent (0) is not in it, so such a pod is not selected and not isolated.
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun NS_prod () Int 0)
(define-fun NS_other () Int 1)
(define-fun ABSENT () Int 0)
(define-fun tier_be () Int 1)
(define-fun tier_OTHER () Int 2)
(define-fun allow_from_local_node () Bool true)

(declare-const src.kind Int)
(declare-const src.ns Int)
(declare-const |src.label[tier]| Int)
(declare-const src.ip4 (_ BitVec 32))
(declare-const src.ip6 (_ BitVec 128))
(declare-const dst.kind Int)
(declare-const dst.ns Int)
(declare-const |dst.label[tier]| Int)
(declare-const dst.ip4 (_ BitVec 32))
(declare-const dst.ip6 (_ BitVec 128))
(declare-const proto Int)
(declare-const port Int)
(declare-const v6 Bool)

(define-fun wf () Bool (and
  (<= 0 src.kind 2) (<= 0 dst.kind 1)
  (=> (= src.kind LOCAL_NODE) (= dst.kind POD))
  (<= 0 src.ns NS_other) (<= 0 dst.ns NS_other)
  (<= 0 |src.label[tier]| tier_OTHER) (<= 0 |dst.label[tier]| tier_OTHER)
  (<= 0 proto 2) (<= 1 port 65535)))

; In S -> v in idx(S).
(define-fun p0.selects_dst () Bool
  (and (= dst.kind POD) (= dst.ns NS_prod) (= |dst.label[tier]| tier_be)))

(define-fun ingress_ok () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not p0.selects_dst)))
(define-fun egress_ok () Bool true)
(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (= src.kind ADDRESS))
(assert (and (= dst.kind POD) (= dst.ns NS_prod)))
(assert (= |dst.label[tier]| ABSENT))
(assert allowed)
(check-sat)
