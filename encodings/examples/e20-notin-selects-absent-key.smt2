; expect: unsat
;
; semantics.md E20 "NotIn selects pods lacking the key" (S2.3, S2.7).
;
; Policy set:
;   p0 = NP(prod) {podSelector: {matchExpressions: [{key: tier, operator: NotIn,
;                  values: [fe]}]}, policyTypes: [Ingress]}
; Universe: namespace atoms 0 = prod, 1 = other;
;   pod key tier: 0 = absent, 1 = "fe", 2 = any other value.
;
; Question: can an address reach a prod pod that has no tier label (prod/db, prod/cache)?
; Expected: unsat. NotIn [fe] is "tier index not in {1}"; absent (0) is not in {1},
; so pods lacking the key are selected (S2.3 absent column) and isolated with no rule.
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun NS_prod () Int 0)
(define-fun NS_other () Int 1)
(define-fun ABSENT () Int 0)
(define-fun tier_fe () Int 1)
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

; NotIn S -> v not in idx(S). Never written as "present and not in S": the absent
; index 0 is outside every idx(S), which gives exactly the S2.7 form.
(define-fun p0.selects_dst () Bool
  (and (= dst.kind POD) (= dst.ns NS_prod) (not (= |dst.label[tier]| tier_fe))))

(define-fun ingress_ok () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not p0.selects_dst)))                   ; p0 has no ingress rule
(define-fun egress_ok () Bool true)
(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (= src.kind ADDRESS))                           ; X
(assert (and (= dst.kind POD) (= dst.ns NS_prod)))      ; a prod pod ...
(assert (= |dst.label[tier]| ABSENT))                   ; ... without a tier label
(assert allowed)
(check-sat)
